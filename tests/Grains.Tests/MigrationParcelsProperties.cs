using System.Net;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using CsCheck;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// <see cref="MigrationParcels"/> over random sequences of what a silo does with it — departures begun, headed, ended;
/// parcels posted by holders and by stages (with an heir), read, dropped; targets declared dead; orphans offered to
/// heirs that hold all, an older epoch of, or not every step; time passing — against a plain model of its rules.
/// After every operation:
/// <list type="number">
/// <item>The count, and the parcels an empty activation would find (<see cref="MigrationParcels.FindLeftFor"/>, for every
/// grain and heir), are the model's: nothing held is lost before its time — a parcel before <see cref="MigrationParcels.Keep"/>
/// since it was last read unless dropped or its target died, a departure before <see cref="MigrationParcels.Keep"/>
/// unless ended or its target died.</item>
/// <item>The orphans are exactly the parcels with an heir and records whose target died less than
/// <see cref="MigrationParcels.OrphanKeep"/> ago (and within <see cref="MigrationParcels.Keep"/> of their last read), not
/// freed: a stage's only surviving copy is kept for its heir; a parcel without an heir is given up at once.</item>
/// <item>A stage's parcel is freed by its heir's answer only when the heir holds a later step of a newer epoch (the job
/// recovered and moved past it), or, for an orphan, every snapshot in it, of the same epoch or newer; a holder's own
/// parcel by the holder's, when it holds every snapshot in it or a later step; the parcels offered while their move may
/// still complete are exactly those with records untouched for <see cref="MigrationParcels.UnclaimedAfter"/>.</item>
/// <item>A departure heads where it was last told, and nowhere once it ended or its target died.</item>
/// <item><see cref="MigrationParcels.WhenEmpty"/>, asked while something is held, completes exactly when the count
/// reaches 0 — a parcel posted meanwhile is waited for too — and asked when nothing is, at once.</item>
/// </list>
/// </summary>
public sealed class MigrationParcelsProperties
{
    private static readonly string[] s_keys = ["stage/s0", "shard/s0", "shard/s1"];
    private static readonly string[] s_heirs = ["shard/s0", "heir/x"];
    private static readonly SiloAddress[] s_silos = [.. Enumerable.Range(0, 2).Select(i => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 1))];
    private static readonly UnitImage s_unit = new(0, "embed", [1, 2, 3]);

    /// <summary>An operation (0–8, see <see cref="Apply"/>) and three small arguments.</summary>
    private static readonly Gen<(int Op, int X, int Y, int Z)[]> s_runs = Gen.Select(Gen.Int[0, 8], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 150]).Array[1, 60];

    [Fact]
    public void Parcels_and_departures_follow_their_rules_over_any_sequence_of_moves_deaths_and_time()
    {
        var freed = new int[6]; // orphans freed, by the kind of answer their heir gave (4: stages' parcels not orphaned; 5: holders' own): the runs must reach every rule
        s_runs.Sample(run =>
        {
            var clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
            using var parcels = new MigrationParcels(clock);
            var model = new Model(clock);
            Task? waiting = null;
            foreach (var step in run)
            {
                Apply(step, parcels, model, clock, freed);
                Check(parcels, model);
                if (model.Count > 0)
                {
                    waiting ??= parcels.WhenEmpty(CancellationToken.None);
                    Assert.False(waiting.IsCompleted, $"WhenEmpty completed with {model.Count} held");
                }
                else
                {
                    Assert.True(parcels.WhenEmpty(CancellationToken.None).IsCompleted, "WhenEmpty asked with nothing held did not complete at once");
                    Assert.True(waiting is null || waiting.Wait(TimeSpan.FromSeconds(30)), "WhenEmpty asked while something was held did not complete once nothing was");
                    waiting = null;
                }
            }
        }, iter: 15000); // orphans freed are rare (≈ 1 in 1,000 runs for each rule): enough runs that each is reached
        Assert.True(freed[0] > 0 && freed[3] > 0 && freed[4] > 0 && freed[5] > 0,
            $"the runs freed orphans whose heir held every step {freed[0]} times, one past them {freed[3]} times, stages' parcels not orphaned {freed[4]} times, and holders' own {freed[5]} times");
    }

    private static void Apply((int Op, int X, int Y, int Z) step, MigrationParcels parcels, Model model, ManualTimeProvider clock, int[] freedBy)
    {
        var (op, x, y, z) = step;
        string key = s_keys[x];
        switch (op)
        {
            case 0:
                parcels.Departing(key);
                model.Departing[key] = (model.Now, null);
                break;
            case 1:
                parcels.Headed(key, s_silos[y % s_silos.Length]);
                if (model.Departing.TryGetValue(key, out var departing)) model.Departing[key] = (departing.Since, s_silos[y % s_silos.Length]);
                break;
            case 2:
                // A stage's parcel names an heir; a holder's does not. Some carry no records (a stage's before records were kept).
                SnapshotRecord[]? records = y == 0 ? null : [.. Enumerable.Range(0, y).Select(i => new SnapshotRecord(z % 20 + i, z % 3, null))];
                string? heir = z % 2 == 0 ? s_heirs[x % 2] : null;
                var id = parcels.Post([[s_unit]], key, records, heir);
                model.Parcels[id] = new Held(model.Now, model.Departing.TryGetValue(key, out var headed) ? headed.Target : null, key, records, heir, null);
                model.Posted.Add(id);
                break;
            case 3:
                parcels.Departed(key);
                model.Departing.Remove(key);
                break;
            case 4:
            {
                var dead = s_silos[x % s_silos.Length];
                parcels.TargetsLost(new HashSet<SiloAddress> { dead });
                foreach (var (pid, held) in model.Parcels.ToArray())
                {
                    if (!dead.Equals(held.Target)) continue;
                    if (held.Heir is not null && held.Records is { Length: > 0 }) model.Parcels[pid] = held with { Target = null, Orphaned = model.Now };
                    else model.Parcels.Remove(pid);
                }
                foreach (var (k, d) in model.Departing.ToArray())
                    if (dead.Equals(d.Target)) model.Departing.Remove(k);
                break;
            }
            case 5:
            {
                if (model.Posted.Count == 0) break;
                // Mostly an orphan, when there is one (the heirs' offers are for those); else any parcel ever posted.
                var orphaned = model.Parcels.Where(p => p.Value.Orphaned is not null).Select(p => p.Key).ToArray();
                var pool = orphaned.Length > 0 && y > 0 ? orphaned : [.. model.Posted];
                var pid = pool[(x * 3 + y) % pool.Length];
                model.Parcels.TryGetValue(pid, out var held);
                var theirs = held?.Records ?? [new SnapshotRecord(0, 0, null)];
                // The heir holds every step (some of a newer epoch), one of an older epoch, not the last step, a later
                // step of a newer epoch (the job recovered and moved past the parcel), or a later step of the same epoch.
                long newest = theirs.Max(r => r.Step), epoch = theirs.Max(r => r.Epoch);
                SnapshotRecord[] holds = (z % 5) switch
                {
                    0 => [.. theirs.Select(r => r with { Epoch = r.Epoch + (z % 2) })],
                    1 => [.. theirs.Select((r, i) => i == 0 ? r with { Epoch = r.Epoch - 1 } : r)],
                    2 => [.. theirs.SkipLast(1)],
                    3 => [new SnapshotRecord(newest + 1, epoch + 1, null)],
                    _ => [new SnapshotRecord(newest + 1, epoch, null)],
                };
                // A stage's parcel (it names an heir) is offered to its heir, a holder's to the holder itself.
                bool own = held is { Heir: null };
                bool freed = own ? parcels.FreeIfOwnerHolds(pid, holds) : parcels.FreeIfHeirHolds(pid, holds);
                // Moved past frees any stage's parcel; holding every step frees an orphan only (else it is the stage's own
                // copy). A holder's parcel goes once the holder holds every step in it or any later one.
                bool expected = held is { Records.Length: > 0 } && (own
                    ? z % 5 is 0 or 3 or 4
                    : z % 5 == 3 || z % 5 == 0 && held.Orphaned is not null);
                Assert.Equal(expected, freed);
                if (!freed) break;
                model.Parcels.Remove(pid);
                Interlocked.Increment(ref freedBy[own ? 5 : held!.Orphaned is null ? 4 : z % 5]);
                break;
            }
            case 6:
                if (model.Posted.Count == 0) break;
                var dropped = model.Posted[(x * 3 + y) % model.Posted.Count];
                parcels.Drop(dropped);
                model.Parcels.Remove(dropped);
                break;
            case 7:
            {
                if (model.Posted.Count == 0) break;
                var pid = model.Posted[(x * 3 + y) % model.Posted.Count];
                var chunk = parcels.Chunk(pid, 0, s_unit.UnitIndex, 0);
                Assert.Equal(model.Parcels.ContainsKey(pid), chunk is not null);
                if (model.Parcels.TryGetValue(pid, out var held)) model.Parcels[pid] = held with { Touched = model.Now };
                break;
            }
            default:
                // Time passes, and the silo's sweep runs (its own timer's sweeps in between find nothing more to do).
                clock.Advance(TimeSpan.FromSeconds(z));
                parcels.Sweep();
                foreach (var (pid, held) in model.Parcels.ToArray())
                    if (model.Now - held.Touched >= MigrationParcels.Keep || model.Now - held.Orphaned >= MigrationParcels.OrphanKeep) model.Parcels.Remove(pid);
                foreach (var (k, d) in model.Departing.ToArray())
                    if (model.Now - d.Since >= MigrationParcels.Keep) model.Departing.Remove(k);
                break;
        }
    }

    private static void Check(MigrationParcels parcels, Model model)
    {
        Assert.Equal(model.Count, parcels.Count);
        foreach (string key in s_keys)
            Assert.Equal(model.Departing.TryGetValue(key, out var d) ? d.Target : null, parcels.HeadingTo(key));
        var orphans = model.Parcels.Where(p => p.Value is { Orphaned: not null, Heir: not null, Records.Length: > 0 }).Select(p => p.Key).Order().ToArray();
        Assert.Equal(orphans, parcels.Orphans().Select(o => o.Parcel).Order().ToArray());
        var unclaimed = model.Parcels.Where(p => p.Value is { Orphaned: null, Records.Length: > 0 } && model.Now - p.Value.Touched >= MigrationParcels.UnclaimedAfter)
            .Select(p => p.Key).Order().ToArray();
        Assert.Equal(unclaimed, parcels.Unclaimed().Select(o => o.Parcel).Order().ToArray());
        foreach (string grain in s_keys.Concat(s_heirs).Distinct())
        {
            var candidates = model.Parcels.Where(p => (p.Value.Key == grain || p.Value.Heir == grain) && p.Value.Records is { Length: > 0 }).ToArray();
            var found = parcels.FindLeftFor(grain);
            Assert.Equal(candidates.Length > 0, found is not null);
            if (found is null) continue;
            Assert.Contains(found.Parcel, candidates.Select(c => c.Key));
            long newest = candidates.Max(c => c.Value.Records!.Max(r => r.Step));
            Assert.Equal(newest, found.Records.Max(r => r.Step)); // the newest copies, whichever parcel holds them
            var chosen = model.Parcels[found.Parcel];
            // Left for its own grain when its move may still complete: neither the grain's own, nor an orphan.
            Assert.Equal(chosen.Key != grain && chosen.Orphaned is null, found.StillAwaited);
        }
    }

    private sealed record Held(DateTimeOffset Touched, SiloAddress? Target, string Key, SnapshotRecord[]? Records, string? Heir, DateTimeOffset? Orphaned);

    private sealed class Model(ManualTimeProvider clock)
    {
        public Dictionary<Guid, Held> Parcels { get; } = [];
        public Dictionary<string, (DateTimeOffset Since, SiloAddress? Target)> Departing { get; } = new(StringComparer.Ordinal);
        public List<Guid> Posted { get; } = []; // every parcel ever posted, held or not: operations pick among them
        public DateTimeOffset Now => clock.GetUtcNow();
        public int Count => Parcels.Count + Departing.Count;
    }
}
