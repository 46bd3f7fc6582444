using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// This silo's parcels: the whole snapshot images of grains that migrated off it, kept until their new activations
/// have taken them (<see cref="IMigrationParcelGrain"/>) or, untouched for <see cref="Keep"/>, given up — a new
/// activation that never came (its silo died) must not hold gigabytes here for ever. A silo shutting down gracefully
/// waits for them (<see cref="WhenEmpty"/>): leaving earlier would lose the copies its moved grains have not yet taken.
/// <para>
/// Invariant (no gap before a parcel): a grain that is about to migrate off this silo is counted from the moment it
/// gives up what showed it here — a stage its device, well before Orleans dehydrates it — until it has posted its
/// parcel or deactivated without one (<see cref="Departing"/>, <see cref="Departed"/>); so a shutdown that finds its
/// nodes drained and <see cref="Count"/> at 0 has no moved grain's copies left to lose. A departure nobody ends (a
/// migration whose placement failed after the grain's deactivation began) is given up after <see cref="Keep"/>, as
/// a parcel is.
/// </para>
/// <para>
/// A departure, and the parcel it posts, remembers where its migration heads (<see cref="Headed"/>, told by
/// <c>DepartureTargetDirector</c>, which wraps every placement director of the product and so sees the silo chosen
/// here): once that silo is declared dead (<see cref="TargetsLost"/>,
/// <c>MigrationParcelTargetWatch</c>) no new activation will come for the parcel — the migration failed, or the activation
/// that took it died — and it is given up at once instead of holding a shutting-down silo until its timeouts (seen in
/// <c>KillDuringLeaveProcessTests</c>: a drain stage moving to a silo killed meanwhile kept its silo's stop waiting 60 s,
/// its drain timeout, and 20 s more).
/// </para>
/// <para>
/// Invariant (a stage's copies outlive a failed move): a stage's parcel names the stage's first snapshot holder as its
/// heir (<see cref="Post"/>). When its migration's target is declared dead — the silo the stage moved onto killed, its
/// holder perhaps with it (seen in <c>KillDuringLeaveProcessTests</c>, seed 201: the stage's move off a leaving silo
/// onto the silo of both holders, killed 0.24 s later) — the parcel may hold the stage's only surviving copy, so it is
/// kept for the heir (<see cref="OrphanKeep"/> at most, counted by <see cref="WhenEmpty"/>: a leave waits that much
/// longer, not its whole drain timeout) rather than given up; the heir, re-created empty, finds it
/// (<see cref="FindLeftFor"/>) and takes it over. An heir may copy a stage's parcel whose migration is not known to have
/// failed but must leave it for the stage (<see cref="LeftParcel.StillAwaited"/>). A parcel nobody takes while its
/// target lives (<see cref="Unclaimed"/>: the new activation could not register) is freed once the job went on without
/// it: a stage's when its heir holds a later step of a newer epoch (<see cref="FreeIfHeirHolds"/>), a holder's when
/// the holder holds its steps or a later one (<see cref="FreeIfOwnerHolds"/>).
/// </para>
/// </summary>
public sealed class MigrationParcels : IDisposable
{
    /// <summary>How long a parcel nobody reads stays.</summary>
    public static readonly TimeSpan Keep = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a parcel with an heir stays once its migration's target is declared dead, for the heir to take it over:
    /// the recovery that asks the heir follows the death within seconds (and asks each copy for 5 s, then 30 s).
    /// </summary>
    public static readonly TimeSpan OrphanKeep = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a parcel whose migration may still complete stays untouched before the grain that could use it is asked
    /// what it holds — a stage's heir, or a holder itself (<see cref="Unclaimed"/>): a move's new activation takes its
    /// parcel within a second or two, but one that could not register in the grain directory never comes, while its
    /// target silo lives on.
    /// </summary>
    public static readonly TimeSpan UnclaimedAfter = TimeSpan.FromSeconds(5);

    /// <summary>How often parcels and departures are looked at for giving up.</summary>
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(5);

    /// <summary>A parcel: whose it is, where its grain's migration headed, who may take it over, and since when it has been an orphan (its target dead).</summary>
    private sealed record Held(IReadOnlyList<IReadOnlyList<UnitImage>> Snapshots, DateTimeOffset Touched, SiloAddress? Target, string? Key,
        IReadOnlyList<SnapshotRecord>? Records, string? Heir, DateTimeOffset? OrphanedSince)
    {
        public bool HasRecords => Records is { Count: > 0 };
    }

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Held> _parcels = [];
    private readonly Dictionary<string, (DateTimeOffset Since, SiloAddress? Target)> _departing = new(StringComparer.Ordinal);
    private readonly ITimer _sweeper;
    private TaskCompletionSource _empty = Emptied();

    public MigrationParcels(TimeProvider time)
    {
        _time = time;
        _sweeper = time.CreateTimer(_ => Sweep(), null, SweepPeriod, SweepPeriod);
    }

    /// <summary>Parcels held now, and grains departing that have not yet posted theirs.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _parcels.Count + _departing.Count;
        }
    }

    /// <summary>Grain <paramref name="key"/> is about to migrate off this silo: counted until it posts its parcel or deactivates (<see cref="Departed"/>).</summary>
    public void Departing(string key)
    {
        lock (_lock)
        {
            ResetIfEmpty();
            _departing[key] = (_time.GetUtcNow(), null);
        }
    }

    /// <summary>The migration of departing grain <paramref name="key"/> heads to <paramref name="target"/> (a placement chose it); ignored for a grain not departing.</summary>
    public void Headed(string key, SiloAddress target)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (_lock)
        {
            if (_departing.TryGetValue(key, out var departing)) _departing[key] = (departing.Since, target);
        }
    }

    /// <summary>Where the migration of departing grain <paramref name="key"/> heads (<see cref="Headed"/>); null when it is not departing or no placement has chosen a silo for it.</summary>
    public SiloAddress? HeadingTo(string key)
    {
        lock (_lock) return _departing.TryGetValue(key, out var departing) ? departing.Target : null;
    }

    /// <summary>
    /// Gives up the departures and parcels whose migration heads to one of <paramref name="dead"/>: no activation will
    /// take them — except a parcel with an heir and records, which is kept for its heir (<see cref="OrphanKeep"/>).
    /// Returns how many were given up, and how many kept for their heirs.
    /// </summary>
    public (int GivenUp, int KeptForHeirs) TargetsLost(IReadOnlySet<SiloAddress> dead)
    {
        ArgumentNullException.ThrowIfNull(dead);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            int lost = 0, kept = 0;
            foreach (var (id, held) in _parcels.ToArray())
            {
                if (held.Target is not { } target || !dead.Contains(target)) continue;
                if (held.Heir is not null && held.HasRecords)
                {
                    _parcels[id] = held with { Target = null, OrphanedSince = now };
                    kept++;
                }
                else if (_parcels.Remove(id)) lost++;
            }
            foreach (var (key, departing) in _departing.ToArray())
                if (departing.Target is { } target && dead.Contains(target) && _departing.Remove(key)) lost++;
            SignalIfEmpty();
            return (lost, kept);
        }
    }

    /// <summary>The parcels kept for their heirs now (<see cref="TargetsLost"/>): each one's id, heir and records.</summary>
    public IReadOnlyList<(Guid Parcel, string Heir, IReadOnlyList<SnapshotRecord> Records)> Orphans()
    {
        lock (_lock)
            return [.. _parcels.Where(p => p.Value is { OrphanedSince: not null, Heir: not null, HasRecords: true })
                .Select(p => (p.Key, p.Value.Heir!, (IReadOnlyList<SnapshotRecord>)[.. p.Value.Records!]))];
    }

    /// <summary>
    /// The parcels with records whose migration may still complete but that nobody has read for
    /// <see cref="UnclaimedAfter"/>: each one's id, grain, heir (a stage's parcel names one; a holder's none) and records.
    /// Seen in <c>KillDuringLeaveProcessTests</c> (seed 230, round 1): a stage, and then a holder, moving off a leaving
    /// silo onto live ones, whose new activations could not register in the grain directory (the silo owning that range
    /// was just killed); the job re-created them and went on, and a parcel, its target alive, held the leave 60 s (its
    /// drain timeout) and 20 s more. Their grains are asked what they hold (<see cref="FreeIfHeirHolds"/>,
    /// <see cref="FreeIfOwnerHolds"/>).
    /// </summary>
    public IReadOnlyList<(Guid Parcel, string? Key, string? Heir, IReadOnlyList<SnapshotRecord> Records)> Unclaimed()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
            return [.. _parcels.Where(p => p.Value is { OrphanedSince: null, HasRecords: true } && now - p.Value.Touched >= UnclaimedAfter)
                .Select(p => (p.Key, p.Value.Key, p.Value.Heir, (IReadOnlyList<SnapshotRecord>)[.. p.Value.Records!]))];
    }

    /// <summary>
    /// Frees <paramref name="parcel"/>, one without an heir (a holder's own, left by its migration), when its grain —
    /// now active elsewhere — holds (<paramref name="ownerHolds"/>) every snapshot in it, of the same epoch or newer, or
    /// a later step of the same epoch or newer: its copies are held by the grain itself, or the job counted a later step
    /// (held on two silos before it counted it) and no recovery goes back to these. True when freed.
    /// </summary>
    public bool FreeIfOwnerHolds(Guid parcel, IReadOnlyCollection<SnapshotRecord> ownerHolds) =>
        FreeIfUseless(parcel, ownerHolds, ofAStage: false, everyStepCounts: _ => true, laterEpochCounts: (later, newest) => later >= newest);

    /// <summary>
    /// Frees <paramref name="parcel"/>, a stage's (it names an heir and holds records), when what its heir answered it
    /// holds (<paramref name="heirHolds"/>) makes it useless:
    /// <list type="bullet">
    /// <item>a later step of a newer epoch than any in it: the job has recovered since and snapshotted past the parcel,
    /// every one of its stages held on two silos at that later step before it counted it, so the parcel's older copies
    /// serve no recovery from a single failure — an orphan or not (its stage's new activation, if it still came, would
    /// be configured at the newer epoch anyway; see <see cref="Unclaimed"/>);</item>
    /// <item>for an orphan only, every snapshot in it — each step, of the same epoch or a newer one. A parcel whose
    /// migration may still complete is not freed so: it is the stage's own copy, the second beside its heir's.</item>
    /// </list>
    /// Either way a leave need not wait out the parcel's keep (the heir keeps only its two newest steps, so once the job
    /// moves on it never again holds every step of the parcel: the likeliest cause of a leave that waited 36.7 s in
    /// <c>KillDuringLeaveProcessTests</c>, seed 216). True when freed.
    /// </summary>
    public bool FreeIfHeirHolds(Guid parcel, IReadOnlyCollection<SnapshotRecord> heirHolds) =>
        FreeIfUseless(parcel, heirHolds, ofAStage: true, everyStepCounts: held => held.OrphanedSince is not null, laterEpochCounts: (later, newest) => later > newest);

    /// <summary>
    /// The rule <see cref="FreeIfOwnerHolds"/> and <see cref="FreeIfHeirHolds"/> share: <paramref name="parcel"/>, a
    /// stage's (<paramref name="ofAStage"/>: it names an heir) or a holder's own, with records, is freed when the grain
    /// asked holds (<paramref name="holds"/>) every snapshot in it — each step, of the same epoch or a newer one — where
    /// <paramref name="everyStepCounts"/>, or a later step whose epoch <paramref name="laterEpochCounts"/> against the
    /// parcel's newest. True when freed.
    /// </summary>
    private bool FreeIfUseless(Guid parcel, IReadOnlyCollection<SnapshotRecord> holds, bool ofAStage, Func<Held, bool> everyStepCounts,
        Func<long, long, bool> laterEpochCounts)
    {
        ArgumentNullException.ThrowIfNull(holds);
        lock (_lock)
        {
            if (!_parcels.TryGetValue(parcel, out var held) || (held.Heir is not null) != ofAStage || !held.HasRecords) return false;
            long newestStep = held.Records!.Max(r => r.Step), newestEpoch = held.Records!.Max(r => r.Epoch);
            bool holdsAll = everyStepCounts(held) && held.Records!.All(r => holds.Any(h => h.Step == r.Step && h.Epoch >= r.Epoch));
            bool later = holds.Any(h => h.Step > newestStep && laterEpochCounts(h.Epoch, newestEpoch));
            if (!holdsAll && !later) return false;
            _parcels.Remove(parcel);
            SignalIfEmpty();
            return true;
        }
    }

    /// <summary>Grain <paramref name="key"/> has posted its parcel (counted as that now) or left without one.</summary>
    public void Departed(string key)
    {
        lock (_lock)
        {
            _departing.Remove(key);
            SignalIfEmpty();
        }
    }

    /// <summary>
    /// Grain <paramref name="key"/> deactivates for <paramref name="reason"/>: unless it migrates (then its departure
    /// ends once it has left its parcel, in its dehydration) it leaves without one, and is no longer departing.
    /// </summary>
    public void Deactivating(string key, DeactivationReason reason)
    {
        if (reason.ReasonCode != DeactivationReasonCode.Migrating) Departed(key);
    }

    /// <summary>
    /// Keeps <paramref name="snapshots"/> (whole images, not copied) of grain <paramref name="key"/>, headed where its
    /// departure is (<see cref="Headed"/>), with their <paramref name="records"/> and the grain that may take them over
    /// when the migration fails (<paramref name="heir"/>, a <c>GrainId</c> string), and returns the parcel's id.
    /// </summary>
    public Guid Post(IReadOnlyList<IReadOnlyList<UnitImage>> snapshots, string? key = null, IReadOnlyList<SnapshotRecord>? records = null, string? heir = null)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var id = Guid.NewGuid();
        lock (_lock)
        {
            ResetIfEmpty();
            var target = key is not null && _departing.TryGetValue(key, out var departing) ? departing.Target : null;
            _parcels[id] = new Held(snapshots, _time.GetUtcNow(), target, key, records, heir, null);
        }
        return id;
    }

    /// <summary>
    /// The newest parcel with records that grain <paramref name="key"/> left here (<see cref="Post"/>), or that names it
    /// heir, for an activation of it that holds nothing (<see cref="IMigrationParcelGrain.FindLeftFor"/>); null when
    /// none is here. An inherited parcel whose migration is neither orphaned nor headed to one of
    /// <paramref name="dead"/> is <see cref="LeftParcel.StillAwaited"/>: its own grain's new activation may still take it.
    /// </summary>
    public LeftParcel? FindLeftFor(string key, IReadOnlySet<SiloAddress>? dead = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            var found = _parcels.Where(p => (p.Value.Key == key || p.Value.Heir == key) && p.Value.HasRecords)
                .OrderByDescending(p => p.Value.Records!.Max(r => r.Step)).ThenByDescending(p => p.Value.Key == key).FirstOrDefault();
            if (found.Value is not { } held) return null;
            bool awaited = held.Key != key && held.OrphanedSince is null && !(held.Target is { } target && dead is not null && dead.Contains(target));
            return new LeftParcel(found.Key, [.. held.Records!], [.. held.Snapshots.Select(units => units.Select(MigratedSnapshots.Header).ToArray())]) { StillAwaited = awaited };
        }
    }

    /// <summary>Chunk <paramref name="index"/> (0 = the first) of a unit of a snapshot of a parcel; null when the parcel or the chunk is not here.</summary>
    public byte[]? Chunk(Guid parcel, int snapshot, int unitIndex, int index)
    {
        lock (_lock)
        {
            if (!_parcels.TryGetValue(parcel, out var held) || snapshot < 0 || snapshot >= held.Snapshots.Count) return null;
            _parcels[parcel] = held with { Touched = _time.GetUtcNow() }; // being read: kept however long the reading takes
            var unit = held.Snapshots[snapshot].FirstOrDefault(u => u.UnitIndex == unitIndex);
            return unit is null || index < 0 ? null : index == 0 ? unit.Image : index <= unit.MoreChunksOrNone.Length ? unit.MoreChunksOrNone[index - 1] : null;
        }
    }

    public void Drop(Guid parcel)
    {
        lock (_lock)
        {
            _parcels.Remove(parcel);
            SignalIfEmpty();
        }
    }

    /// <summary>
    /// Completes once no parcel is held — every one taken by its new activation, or given up after <see cref="Keep"/> —
    /// and no grain is departing; at once when none is; cancelled by <paramref name="cancellationToken"/>. A parcel
    /// posted (or a departure begun) meanwhile is waited for too.
    /// </summary>
    public Task WhenEmpty(CancellationToken cancellationToken)
    {
        lock (_lock) return _empty.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Drops the parcels untouched for <see cref="Keep"/> or orphaned for <see cref="OrphanKeep"/>, and the departures unended for <see cref="Keep"/>.</summary>
    public void Sweep()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            foreach (var (id, held) in _parcels.ToArray())
                if (now - held.Touched >= Keep || now - held.OrphanedSince >= OrphanKeep) _parcels.Remove(id);
            foreach (var (key, departing) in _departing.ToArray())
                if (now - departing.Since >= Keep) _departing.Remove(key);
            SignalIfEmpty();
        }
    }

    public void Dispose() => _sweeper.Dispose();

    private void ResetIfEmpty()
    {
        if (_parcels.Count + _departing.Count == 0) _empty = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void SignalIfEmpty()
    {
        if (_parcels.Count + _departing.Count == 0) _empty.TrySetResult();
    }

    private static TaskCompletionSource Emptied()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }
}
