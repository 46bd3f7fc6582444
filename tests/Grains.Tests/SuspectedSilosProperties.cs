using System.Net;
using Cluster.Grains.Scheduling;
using CsCheck;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13's judgement of which silos membership suspects (<see cref="SuspectedSilos.Judge"/>, whose complement among
/// the Active silos is what the scheduler may place on), over random membership tables: silos of every status, votes
/// of random ages around the expiration (some from voters whose clocks run ahead), stamped in UTC or unspecified kind,
/// judged at random times with random expirations. Properties:
/// <list type="number">
/// <item>A silo is suspected exactly when it is Active, named, and has a vote younger than the expiration (now − vote &lt;
/// expiration; a vote from the future counts), and its value is its latest such vote: a silo with a fresh vote is never
/// placeable, one with none (or only expired ones) is.</item>
/// <item>A silo that is not Active is never suspected (it is not placeable anyway: only Active silos are).</item>
/// <item>Monotone in time: with the same votes, the set judged later is a subset of the set judged earlier (suspicion
/// only expires; nothing becomes suspected by time passing).</item>
/// <item>Monotone in votes: one more vote never takes a silo out of the set, and never makes its latest vote older.</item>
/// <item>The boundary: a silo whose latest vote is exactly one expiration old is not suspected; one tick younger, it is.</item>
/// </list>
/// </summary>
public sealed class SuspectedSilosProperties
{
    private static readonly DateTimeOffset Epoch = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly SiloStatus[] Statuses = [SiloStatus.Active, SiloStatus.Active, SiloStatus.Joining, SiloStatus.ShuttingDown, SiloStatus.Stopping, SiloStatus.Dead, SiloStatus.Created];

    /// <summary>A vote: its voter, its age in seconds relative to the judging time (negative: from the future), whether it is stamped UTC.</summary>
    private static readonly Gen<(int Voter, int AgeSeconds, bool Utc)> s_vote = Gen.Select(Gen.Int[0, 5], Gen.Int[-30, 400], Gen.Bool);

    private static readonly Gen<(int Status, bool Named, (int Voter, int AgeSeconds, bool Utc)[] Votes)> s_silo =
        Gen.Select(Gen.Int[0, Statuses.Length - 1], Gen.Int[0, 9].Select(n => n > 0), s_vote.Array[0, 4]);

    private static readonly Gen<((int Status, bool Named, (int Voter, int AgeSeconds, bool Utc)[] Votes)[] Silos, int ExpirationSeconds, int Later)> s_table =
        Gen.Select(s_silo.Array[0, 8], Gen.Int[1, 300], Gen.Int[0, 400]);

    [Fact]
    public void A_silo_is_suspected_exactly_while_an_Active_silo_has_a_fresh_vote() =>
        s_table.Sample(t =>
        {
            var now = Epoch;
            var expiration = TimeSpan.FromSeconds(t.ExpirationSeconds);
            var entries = Entries(t.Silos, now);
            var suspected = SuspectedSilos.Judge(entries, now, expiration);
            for (int i = 0; i < entries.Length; i++)
            {
                var entry = entries[i];
                if (entry.SiloName is null) continue;
                var fresh = t.Silos[i].Votes.Where(v => v.AgeSeconds < t.ExpirationSeconds).ToArray();
                bool expected = entry.Status == SiloStatus.Active && fresh.Length > 0;
                Assert.Equal(expected, suspected.ContainsKey(entry.SiloName));
                if (expected)
                    Assert.Equal(now - TimeSpan.FromSeconds(fresh.Min(v => v.AgeSeconds)), suspected[entry.SiloName]);
                if (entry.Status != SiloStatus.Active) Assert.False(suspected.ContainsKey(entry.SiloName), $"{entry.Status} silo suspected");
            }
            Assert.True(suspected.Keys.All(name => entries.Any(e => e.SiloName == name)));
        }, iter: 2000);

    [Fact]
    public void Suspicion_only_expires_as_time_passes_and_more_votes_only_add_to_it() =>
        Gen.Select(s_table, s_vote, Gen.Int[0, 7]).Sample(x =>
        {
            var (t, extra, target) = x;
            var expiration = TimeSpan.FromSeconds(t.ExpirationSeconds);
            var entries = Entries(t.Silos, Epoch);
            var earlier = SuspectedSilos.Judge(entries, Epoch, expiration);
            var later = SuspectedSilos.Judge(entries, Epoch + TimeSpan.FromSeconds(t.Later), expiration);
            Assert.Subset(earlier.Keys.ToHashSet(), later.Keys.ToHashSet());
            foreach (var (name, vote) in later) Assert.Equal(earlier[name], vote); // the same latest fresh vote

            if (entries.Length == 0) return;
            var more = Entries(t.Silos, Epoch);
            var silo = more[target % more.Length];
            silo.SuspectTimes = [.. silo.SuspectTimes ?? [], Vote(extra, Epoch)];
            var withMore = SuspectedSilos.Judge(more, Epoch, expiration);
            Assert.Subset(withMore.Keys.ToHashSet(), earlier.Keys.ToHashSet());
            foreach (var (name, vote) in earlier) Assert.True(withMore[name] >= vote, $"{name}'s latest vote got older with one more vote");
        }, iter: 2000);

    [Fact]
    public void A_vote_counts_until_it_is_exactly_one_expiration_old() =>
        Gen.Select(Gen.Int[1, 100_000], Gen.Int[0, 3], Gen.Bool).Sample(x =>
        {
            var (expirationMs, voters, utc) = x;
            var expiration = TimeSpan.FromMilliseconds(expirationMs);
            var entry = Entry("a", 1, SiloStatus.Active);
            entry.SuspectTimes = [.. Enumerable.Range(0, voters + 1).Select(v => Vote((v, v * 7, utc), Epoch))];
            var latest = Epoch; // the vote of age 0 is the latest
            Assert.Contains("a", SuspectedSilos.Judge([entry], latest + expiration - TimeSpan.FromTicks(1), expiration).Keys);
            Assert.DoesNotContain("a", SuspectedSilos.Judge([entry], latest + expiration, expiration).Keys);
        }, iter: 1000);

    private static MembershipEntry[] Entries((int Status, bool Named, (int Voter, int AgeSeconds, bool Utc)[] Votes)[] silos, DateTimeOffset now) =>
    [
        .. silos.Select((s, i) =>
        {
            var entry = Entry(s.Named ? $"silo{i}" : null, i + 1, Statuses[s.Status]);
            if (s.Votes.Length > 0 || i % 2 == 0) entry.SuspectTimes = [.. s.Votes.Select(v => Vote(v, now))];
            return entry;
        }),
    ];

    private static Tuple<SiloAddress, DateTime> Vote((int Voter, int AgeSeconds, bool Utc) v, DateTimeOffset now)
    {
        var at = (now - TimeSpan.FromSeconds(v.AgeSeconds)).UtcDateTime;
        return Tuple.Create(Address(100 + v.Voter), v.Utc ? at : DateTime.SpecifyKind(at, DateTimeKind.Unspecified));
    }

    private static SiloAddress Address(int generation) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11000 + generation), generation);

    private static MembershipEntry Entry(string? name, int generation, SiloStatus status) => new()
    {
        SiloAddress = Address(generation),
        SiloName = name!, // a row without a name (Judge skips it)
        Status = status,
    };
}
