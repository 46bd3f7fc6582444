using System.Net;
using Cluster.Grains.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>Issue 13: which silos membership suspects, judged from the table's votes (the pure part of <see cref="SuspectedSilos"/>).</summary>
public sealed class SuspectedSilosTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Expiration = TimeSpan.FromMinutes(2);

    [Fact]
    public void Only_active_silos_with_a_vote_younger_than_the_expiration_are_suspected_with_their_latest_vote()
    {
        var voter = Address(9);
        MembershipEntry[] entries =
        [
            Entry("fresh", 1, SiloStatus.Active, (voter, Now.AddMinutes(-3)), (Address(8), Now.AddSeconds(-5)), (Address(7), Now.AddSeconds(-30))),
            Entry("stale", 2, SiloStatus.Active, (voter, Now - Expiration), (Address(8), Now.AddMinutes(-10))),
            Entry("unvoted", 3, SiloStatus.Active),
            Entry("empty", 4, SiloStatus.Active, []),
            Entry("ahead", 5, SiloStatus.Active, (voter, Now.AddSeconds(3))), // the voter's clock runs ahead: fresh
            Entry("dead", 6, SiloStatus.Dead, (voter, Now.AddSeconds(-1))), // dead is not placeable anyway; not "suspected"
            Entry("joining", 7, SiloStatus.Joining, (voter, Now.AddSeconds(-1))),
        ];

        var suspected = SuspectedSilos.Judge(entries, Now, Expiration);

        Assert.Equal(["ahead", "fresh"], suspected.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Now.AddSeconds(-5), suspected["fresh"]);
        Assert.Equal(Now.AddSeconds(3), suspected["ahead"]);
    }

    [Fact]
    public void A_vote_stops_counting_once_it_is_as_old_as_the_expiration()
    {
        var entry = Entry("a", 1, SiloStatus.Active, (Address(2), Now));
        Assert.Contains("a", SuspectedSilos.Judge([entry], Now + Expiration - TimeSpan.FromTicks(1), Expiration).Keys);
        Assert.Empty(SuspectedSilos.Judge([entry], Now + Expiration, Expiration));
    }

    [Fact]
    public async Task The_table_is_read_at_most_once_a_second_and_a_hung_or_failing_read_costs_one_bounded_wait_and_one_log_line()
    {
        var time = new ManualTimeProvider(Now);
        var table = new ScriptedVotes { Next = () => Task.FromResult<IReadOnlyList<MembershipEntry>>([Entry("a", 1, SiloStatus.Active, (Address(2), Now.AddSeconds(-1)))]) };
        var logger = new RecordingLogger<SuspectedSilos>();
        var suspects = new SuspectedSilos(table, Options.Create(new ClusterMembershipOptions { DeathVoteExpirationTimeout = Expiration }), time, logger);

        Assert.Equal(["a"], (await suspects.Current()).Keys);
        Assert.Equal(["a"], (await suspects.Current()).Keys); // cached
        Assert.Equal(1, table.Reads);

        // The table hangs: one caller waits ReadTimeout (a real timer), then the last set known holds.
        var hung = new TaskCompletionSource<IReadOnlyList<MembershipEntry>>(TaskCreationOptions.RunContinuationsAsynchronously);
        table.Next = () => hung.Task;
        time.Advance(SuspectedSilos.ReadInterval);
        Assert.Equal(["a"], (await suspects.Current().WaitAsync(TimeSpan.FromMinutes(1))).Keys);
        Assert.Equal(2, table.Reads);
        // Later callers do not wait on the same hung read, and no second read starts while it hangs.
        time.Advance(SuspectedSilos.ReadInterval);
        var next = suspects.Current();
        Assert.True(next.IsCompleted, "a caller after a timed-out read must not wait again");
        Assert.Equal(["a"], (await next).Keys);
        Assert.Equal(2, table.Reads);

        // The hung read fails at last: still the one warning; the next read (no votes now) clears the set and says so.
        hung.SetException(new IOException("membership table unavailable"));
        table.Next = () => Task.FromResult<IReadOnlyList<MembershipEntry>>([Entry("a", 1, SiloStatus.Active)]);
        var cleared = await Eventually.Value(suspects.Current, s => s.Count == 0, TimeSpan.FromSeconds(30), "a read after the failed one");
        Assert.Empty(cleared);
        Assert.Equal(3, table.Reads);
        Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("did not answer", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("could not be read", StringComparison.Ordinal));
        Assert.Single(logger.Entries, e => e.Message.Contains("readable again", StringComparison.Ordinal));
    }

    private static SiloAddress Address(int generation) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11000 + generation), generation);

    private static MembershipEntry Entry(string name, int generation, SiloStatus status) => new()
    {
        SiloAddress = Address(generation),
        SiloName = name,
        Status = status,
    };

    private static MembershipEntry Entry(string name, int generation, SiloStatus status, params (SiloAddress Voter, DateTimeOffset At)[] votes)
    {
        var entry = Entry(name, generation, status);
        entry.SuspectTimes = [.. votes.Select(v => Tuple.Create(v.Voter, v.At.UtcDateTime))];
        return entry;
    }
}
