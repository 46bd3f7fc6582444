using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Holds the latest snapshots of one stage in memory, away from the stage's silo — the in-memory replica a recovery
/// restores from when it is newer than the last durable checkpoint — and (holder 0, the checkpoint shard) writes
/// checkpoint snapshots to the store in the background so training never waits for storage. <see cref="WaitDurable"/>
/// lets the job commit a manifest only once every shard is on durable storage.
/// <para>
/// Invariant (redundancy): after the stage's snapshot of step N is acknowledged to the job, N is held by the stage on
/// its silo (with data-parallel replicas: rank 0's stage, whose state every replica shares; the others keep no copy,
/// see <c>ReplicaStages.Snapshotting</c>) and by <c>SnapshotReplicas − 1</c> holders, each on a silo that is neither
/// the stage's nor another holder's (when the cluster has that many silos). It is kept by these rules, none of which depends on who activates a holder:
/// (1) placement — <see cref="SnapshotHolderPlacement"/> looks up the stage's and the other holders' silos itself, so
/// an activation by the job (a recovery's <see cref="GetSnapshotSteps"/>, a commit's <see cref="WaitDurable"/>) lands
/// elsewhere too; (2) every <see cref="Accept"/> names the stage's silo, and a holder found there (the stage moved onto
/// it, or it was placed before the stage) moves away with what it holds and makes the stage retry, so the snapshot is
/// acknowledged only once held on another silo; (3) the stage re-seeds its holders with its restored state whenever it
/// is configured (every move, join, restart and re-activation), before the job runs the next step; (4) a holder lost
/// with its silo is the stage's to repair, not a failure of the job: the stage asks it again until the call re-creates
/// it on a live silo and only then acknowledges the snapshot (<c>PipelineStageGrain.SendToHolder</c>) — a holder-only
/// silo's death used to fail the snapshot with an Orleans error naming the stage's own silo, the job then reported
/// that healthy node unreachable and moved the stage, whose own copy did not move with it: "s0: none"; (5) the stage's
/// own copies travel with it when it moves (it migrates with them), and a recovery counts the own copy of every stage
/// on a live silo, whether or not the new placement keeps it there; before the job moves a live stage to another silo,
/// its holders on that silo move away first (<see cref="MakeRoom"/>, to a silo that is neither the stage's old one nor
/// its new one), so the stage's copies on their way and a holder's never share a silo while it moves; (6) a silo that
/// shuts down gracefully moves its holders, with their copies, to other silos before it leaves (<see cref="LeaveShuttingDownSilo"/>):
/// a leave is no failure, and without it the stage's own copy was the only one until its next snapshot; from the stop's
/// start no holder is placed on that silo, and one that comes all the same moves on once it holds a copy. One silo failure
/// therefore never takes both copies of a step — with one exception: in a cluster of two silos, a holder has no third
/// silo to make room on, and stays where its stage moves (its old silo may be leaving: a drain for a graceful shutdown),
/// so one silo holds both copies while the stage moves, until the silo the stage left can take the holder again. Two
/// simultaneous failures (the stage's silo and its holder's) may: the job then restores its durable checkpoint.
/// </para>
/// <para>
/// Invariant (release is final, the holder's half; the stage's is <c>PipelineStageGrain.SettleSendsAtRelease</c>): after
/// <see cref="Release"/> of epoch E, no copy of epoch E or older is held again. The stages stop sending before the job
/// releases the holders, but a call sent before that (at most one per stage: a transfer checks its epoch between calls)
/// may still arrive — late, e.g. from a stage whose release stopped waiting for it. So the released activation stays for
/// <see cref="ReleasedLinger"/> (the silo's response timeout and a margin), holding nothing and refusing such copies;
/// a call older than that has expired and Orleans drops it undelivered, so it cannot re-create the holder either. A
/// call later still (a holder silo frozen past the response timeout, a sender with a longer one) reaches a new
/// activation, which asks the job before it holds a first copy and refuses one of an ended job's last epoch or older
/// (<see cref="RefuseIfJobLeft"/>). A newer epoch (an operator's restore of the ended job) is served as usual.
/// </para>
/// </summary>
[Reentrant]
[SnapshotHolderPlacement]
internal sealed partial class CheckpointShardGrain(
    ICheckpointStore store,
    MigrationParcels parcels,
    LocalSnapshotHolders local,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    IOptions<SiloMessagingOptions> messaging,
    TimeProvider time,
    ILogger<CheckpointShardGrain> logger) : Grain, ICheckpointShardGrain, IGrainMigrationParticipant
{
    private readonly Dictionary<long, Task<IReadOnlyList<ShardRecord>>> _writes = [];
    private long _epoch = -1;
    private readonly List<(SnapshotRecord Record, IReadOnlyList<UnitImage> Units)> _held = []; // whole images; newest last, at most two
    private readonly Dictionary<(long Epoch, long Step, int Unit, int Index), byte[]> _incoming = []; // chunks sent ahead of their Accept
    private bool _askedSiblings; // holder 0 asked its siblings (once)
    private Task? _parcelSearch; // this activation's search for a parcel left for it, while one is in flight
    private long _releasedEpoch = -1; // the epoch of the job's release: copies of it or older are refused
    private (SnapshotRecord[] Records, MigratedSnapshots Parcel)? _arriving; // copies left on the silo this holder migrated from (OnActivateAsync takes them)
    private Task<bool>? _leave; // this activation's leave of a silo that shuts down (LeaveShuttingDownSilo), once asked
    private SiloAddress? _leftLeavingSilo; // the silo this holder left because it shuts down: never moved back there

    /// <summary>How long a released holder stays to refuse late copies: past the expiry of any call sent before its release.</summary>
    private TimeSpan ReleasedLinger => messaging.Value.ResponseTimeout + TimeSpan.FromSeconds(5);

    private int Index => SnapshotHolders.Parse(this.GetPrimaryKeyString()).Index;

    public async Task Accept(long epoch, long completedSteps, int stage, IReadOnlyList<UnitImage> units, bool durable, double? stepLoss = null)
    {
        RefuseStale(epoch);
        await RefuseIfJobLeft(epoch);
        if (await MoveIfMisplaced(epoch, RequestContext.Get(PlacementContextKeys.AvoidSilo) as string, "it also holds a copy of the same state"))
            throw new SnapshotHolderMisplacedException(
                $"Snapshot holder {this.GetPrimaryKeyString()} is on silo '{silo.Name}', which also holds a copy of the same state; it is moving to another silo: retry.");
        RefuseStale(epoch); // a release or a newer epoch may have come in meanwhile
        // A newer epoch may have rewound the job (an operator's restore): its snapshots replace later ones of the old timeline.
        bool newEpoch = epoch > _epoch;
        _epoch = epoch;
        if (newEpoch)
            _held.RemoveAll(h => h.Record.Step >= completedSteps);
        units = await Assemble(epoch, completedSteps, units);
        RefuseStale(epoch); // likewise while this copy was assembled
        var record = new SnapshotRecord(completedSteps, epoch, stepLoss);
        if (_held.Count == 0 || completedSteps > _held[^1].Record.Step)
        {
            _held.Add((record, units));
            if (_held.Count > 2) _held.RemoveAt(0);
        }
        else if (completedSteps == _held[^1].Record.Step)
        {
            _held[^1] = (record with { StepLoss = stepLoss ?? _held[^1].Record.StepLoss }, units);
        }
        LeaveIfSiloLeaving();
        if (!durable) return;
        string jobId = SnapshotHolders.Parse(this.GetPrimaryKeyString()).JobId;
        _writes[completedSteps] = WriteAsync(jobId, epoch, completedSteps, stage, units);
        // Keep only writes that may still be waited on; finished older ones are done with.
        foreach (long step in _writes.Keys.Where(s => s < completedSteps && _writes[s].IsCompleted).ToArray())
            _writes.Remove(step);
    }

    public async Task AcceptChunk(long epoch, long completedSteps, UnitImageChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        RefuseStale(epoch);
        await RefuseIfJobLeft(epoch);
        RefuseStale(epoch);
        _incoming[(epoch, completedSteps, chunk.UnitIndex, chunk.Index)] = chunk.Data;
    }

    /// <summary>Fences a copy from an older epoch, or one from the epoch the job released this holder at (or before).</summary>
    private void RefuseStale(long epoch)
    {
        if (epoch < _epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        if (epoch <= _releasedEpoch)
            throw new SnapshotHolderReleasedException(
                $"Snapshot holder {this.GetPrimaryKeyString()} was released when its job ended (epoch {_releasedEpoch}); a copy of epoch {epoch} arrived late and is not held.");
    }

    /// <summary>
    /// Whole images from the headers of an <see cref="Accept"/> and the chunks sent ahead of it; chunks of this step and
    /// older ones (a transfer that failed half-way) are let go.
    /// </summary>
    private async Task<IReadOnlyList<UnitImage>> Assemble(long epoch, long completedSteps, IReadOnlyList<UnitImage> headers)
    {
        var whole = (await UnitImages.FetchAsync(headers, (unit, i) => _incoming.TryGetValue((epoch, completedSteps, unit, i), out var chunk)
            ? Task.FromResult<byte[]?>(chunk)
            : throw new InvalidOperationException($"Snapshot holder {this.GetPrimaryKeyString()}: chunk {i} of unit '{headers.First(h => h.UnitIndex == unit).UnitName}' of step {completedSteps} never arrived (the holder may have restarted since): send the snapshot again.")))!;
        foreach (var key in _incoming.Keys.Where(k => k.Step <= completedSteps).ToArray())
            _incoming.Remove(key);
        return whole;
    }

    /// <summary>
    /// Rule (2) of the invariant: on the stage's silo (or a lower-index holder's), move away — carrying the snapshots
    /// and finished durable writes; true when moving (the caller retries, or calls again to reach the new activation).
    /// Stays when no other active silo exists (no redundancy is possible there; the next snapshot after a silo joins
    /// moves it).
    /// </summary>
    private async Task<bool> MoveIfMisplaced(long epoch, string? stageSilo, string why, string? alsoAvoid = null)
    {
        var here = silo.SiloAddress;
        var taken = new HashSet<string>(StringComparer.Ordinal);
        if (stageSilo is not null) taken.Add(stageSilo);
        if (Index > 0)
            foreach (var address in await SnapshotHolderSites.OccupiedAsync(GrainFactory, this.GetPrimaryKeyString(), includeStages: false))
                taken.Add(NodeSilos.NameOf(membership, address));
        if (!taken.Contains(silo.Name)) return false;
        // Not back to a silo it left because it shuts down: still Active in membership until its stop's next stage, it
        // would send the holder here again at once (a two-silo cluster: back and forth, and no snapshot held meanwhile).
        bool elsewhere = membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && m.SiloAddress != here && !taken.Contains(m.Name) && m.Name != alsoAvoid
            && !m.SiloAddress.Equals(_leftLeavingSilo));
        if (!elsewhere) return false;
        // Durable writes in flight finish here first, so a commit waiting on them finds their records after the move.
        try
        {
            await Task.WhenAll(_writes.Values);
        }
        catch (Exception e)
        {
            LogWriteFailedBeforeMove(logger, e, this.GetPrimaryKeyString());
        }
        RefuseStale(epoch); // released (or superseded) meanwhile: nothing is left to move
        LogMisplaced(logger, this.GetPrimaryKeyString(), silo.Name, string.Join(", ", taken.Order(StringComparer.Ordinal)), why);
        parcels.Departing(GrainContext.GrainId.ToString()); // until its copies are a parcel here (OnDehydrate): a graceful shutdown waits
        // Nor placed back on the silo it left: the director, on this silo, sees that one Active.
        if (_leftLeavingSilo is { } left) RequestContext.Set(PlacementContextKeys.LeftSilo, left.ToParsableString());
        // Placed again with this call's request context (its hint names the stage's silo), and migrated only when that
        // placement chose another silo: else it stays with its copies (ElsewhereMigration's invariant).
        if (await this.MigrateElsewhereOnIdle(parcels)) return true;
        LogStaysNoPlacement(logger, this.GetPrimaryKeyString(), silo.Name);
        return false;
    }

    /// <summary>
    /// Rule (5)'s other half (see the invariant): before the job moves the stage onto <paramref name="stageSilo"/>, a
    /// holder there leaves it. Else, from the moment the moved stage holds its copies there until its configuration
    /// re-seeds (and so moves) this holder, one silo would hold both copies of the stage's state — and while its new
    /// activation takes its copies from the silo it left, a loss of <paramref name="stageSilo"/> takes the holder's
    /// and the half-taken ones alike (found by <c>RandomTransferKillMomentTests</c>: restored from the durable
    /// checkpoint, "s0: none"). The caller's hint (<see cref="PlacementContextKeys.AvoidSilo"/>) names
    /// <paramref name="stageSilo"/>, and <see cref="PlacementContextKeys.AlsoAvoidSilo"/> the stage's silo now (which the
    /// placement director also looks up in the grain directory — a lookup that may time out on a loaded silo, which
    /// would let the holder land on the stage's own silo), so the holder lands on a third silo when there is one. The job
    /// checks that the copies it reports arrive there before it moves the stage.
    /// </summary>
    public async Task<long[]?> MakeRoom(long epoch, string stageSilo)
    {
        RefuseStale(epoch);
        long[] carried = [.. _held.Select(h => h.Record.Step)];
        // Only to a third silo, never to the one the stage leaves (the only other one in a two-silo cluster): that silo
        // may be leaving itself — drained for a graceful shutdown — and would take the holder's copies with it.
        return await MoveIfMisplaced(epoch, stageSilo, "its stage is about to move there", RequestContext.Get(PlacementContextKeys.AlsoAvoidSilo) as string) ? carried : null;
    }

    public async Task Release(long epoch)
    {
        if (epoch < _epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        try
        {
            await Task.WhenAll(_writes.Values); // a checkpoint the job committed reads them no more, but its files finish
        }
        catch (Exception e)
        {
            LogWriteFailedAtRelease(logger, e, this.GetPrimaryKeyString());
        }
        MarkReleased(epoch);
    }

    /// <summary>
    /// Drops everything held and refuses copies of <paramref name="epoch"/> or older from now on; stays (empty) long
    /// enough to refuse any late copy of that epoch, then goes away (see the class's invariant).
    /// </summary>
    private void MarkReleased(long epoch)
    {
        _held.Clear();
        _incoming.Clear();
        _writes.Clear();
        _releasedEpoch = Math.Max(_releasedEpoch, epoch);
        _epoch = Math.Max(_epoch, epoch);
        LingerReleased();
    }

    /// <summary>
    /// A holder that migrated here takes the copies it left on its old silo first (see <see cref="OnDehydrate"/>); a
    /// released holder (here, or moved here after its release) stays to refuse late copies, then goes away.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_arriving is var (records, parcel))
        {
            _arriving = null;
            try
            {
                HoldTaken(records, await parcel.TakeAsync(GrainFactory, time, cancellationToken));
            }
            catch (Exception e)
            {
                // The old silo died (or the activation ran out of time) before the copies were across: as if the holder had stayed there.
                LogMigratedSnapshotsLost(logger, e, this.GetPrimaryKeyString(), parcel.Silo, string.Join(", ", records.Select(r => r.Step)));
            }
        }
        if (_releasedEpoch >= 0) LingerReleased();
        local.Add(this.GetPrimaryKeyString()); // once activated: a silo that shuts down moves it away (SnapshotHolderEvacuationOnShutdown)
        LeaveIfSiloLeaving(); // moved (or placed) here after that silo's stop began
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        local.Remove(this.GetPrimaryKeyString());
        parcels.Deactivating(GrainContext.GrainId.ToString(), reason);
        return Task.CompletedTask;
    }

    private void LingerReleased()
    {
        DelayDeactivation(ReleasedLinger);
        _ = DeactivateAfterLinger(_releasedEpoch);
    }

    private async Task DeactivateAfterLinger(long releasedEpoch)
    {
        await Task.Delay(ReleasedLinger, time);
        if (_releasedEpoch == releasedEpoch && _held.Count == 0 && _writes.Count == 0)
            DeactivateOnIdle();
    }

    public Task<long> GetLatestStep() => Task.FromResult(_held.Count > 0 ? _held[^1].Record.Step : -1);

    public async Task<long[]> GetSnapshotSteps()
    {
        await AskSiblingsWhenEmpty();
        return [.. _held.Select(h => h.Record.Step)];
    }

    public async Task<SnapshotRecord[]> GetSnapshotRecords()
    {
        await AskSiblingsWhenEmpty();
        return [.. _held.Select(h => h.Record)];
    }

    public async Task<IReadOnlyList<UnitImage>?> GetSnapshot(long completedSteps)
    {
        await AskSiblingsWhenEmpty();
        return _held.Where(h => h.Record.Step == completedSteps).Select(h => (IReadOnlyList<UnitImage>)[.. h.Units.Select(UnitImages.Header)]).FirstOrDefault();
    }

    public Task<byte[]?> GetSnapshotChunk(long completedSteps, int unitIndex, int index) =>
        Task.FromResult(UnitImages.Chunk(_held.Where(h => h.Record.Step == completedSteps).Select(h => h.Units).FirstOrDefault(), unitIndex, index));

    /// <summary>
    /// Holder 0 is the one a recovering job asks; re-created empty after its silo died, it takes over a parcel left for
    /// it (<see cref="TakeParcelLeftBehind"/>: looked for again on every ask while it stays empty — calls that come while
    /// a search is in flight share it), then what the other holders (<c>SnapshotReplicas</c> &gt; 2) still hold, looked
    /// up in the directory so none is activated by asking.
    /// <para>
    /// Every ask, because a parcel may be posted after an earlier one, and the ask that matters is the recovery's: a
    /// stage whose move fails dehydrates after its holder, moving off the silo that died, came up empty (seen in
    /// <c>KillDuringLeaveProcessTests</c> seed 201). Until 2026-12-07 an empty holder looked at most every 2 s, and seed
    /// 230 fell in that gap: the holder looked 0.9 s before the recovery asked it, the stage's failed move posted its
    /// parcel (the stage's only copies, on its leaving silo) in between, the holder answered "none", and the job
    /// restored the durable checkpoint (1 counted step recomputed). Asking is cheap: callers are few (a recovery's
    /// rounds, a stage's restore, the keeping silo's watch once a second), and each live silo answers from memory
    /// within <see cref="ParcelLookupLimit"/>.
    /// </para>
    /// </summary>
    private async Task AskSiblingsWhenEmpty()
    {
        if (_held.Count > 0 || _releasedEpoch >= 0) return; // a released holder takes nothing back
        var search = _parcelSearch ??= TakeParcelLeftBehind();
        try
        {
            await search;
        }
        finally
        {
            if (_parcelSearch == search) _parcelSearch = null; // the next ask looks again
        }
        if (_held.Count > 0 || _askedSiblings || Index != 0) return;
        _askedSiblings = true;
        var (jobId, stage, _) = SnapshotHolders.Parse(this.GetPrimaryKeyString());
        var management = GrainFactory.GetGrain<IManagementGrain>(0);
        for (int h = 1; h < Jobs.JobSpecs.MaxSnapshotReplicas - 1 && _held.Count == 0; h++)
        {
            var sibling = GrainFactory.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key(jobId, stage, h));
            try
            {
                if (await management.GetActivationAddress(sibling) is null) continue;
                foreach (var record in (await sibling.GetSnapshotRecords().WaitAsync(TimeSpan.FromSeconds(5))).OrderBy(r => r.Step))
                    if (await UnitImages.FetchAsync(await sibling.GetSnapshot(record.Step).WaitAsync(TimeSpan.FromSeconds(30)),
                            (unit, index) => sibling.GetSnapshotChunk(record.Step, unit, index).WaitAsync(TimeSpan.FromSeconds(30))) is { } units)
                        _held.Add((record, units));
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
            {
                LogSiblingUnreachable(logger, e, this.GetPrimaryKeyString(), h);
            }
        }
    }

    public async Task<IReadOnlyList<ShardRecord>> WaitDurable(long epoch, long completedSteps)
    {
        if (!_writes.TryGetValue(completedSteps, out var write))
            throw new InvalidOperationException($"Shard {this.GetPrimaryKeyString()} holds no snapshot of step {completedSteps} (epoch {epoch}); it may have restarted since.");
        return await write;
    }

    private async Task<IReadOnlyList<ShardRecord>> WriteAsync(string jobId, long epoch, long step, int stage, IReadOnlyList<UnitImage> units)
    {
        var records = new List<ShardRecord>(units.Count);
        foreach (var unit in units)
        {
            string name = UnitStateImage.FileNameOf(unit.UnitName);
            var image = UnitImages.Bytes(unit);
            string sha256 = await Task.Run(() => image.Sha256Hex()); // over the whole image, however many chunks hold it; off the grain's turn
            await store.WriteShardChunksAsync(jobId, epoch, step, name, image);
            records.Add(new ShardRecord(stage, unit.UnitIndex, unit.UnitName, name, image.Length, sha256));
        }
        LogDurable(logger, this.GetPrimaryKeyString(), step, records.Sum(r => r.Bytes));
        return records;
    }

    /// <summary>
    /// A moving holder carries its epochs, its finished durable writes' records and its snapshots; the images stay on
    /// this silo and the new activation takes them before it serves a call (<see cref="MigratedSnapshots"/>): two of a
    /// stage's states exceed what one message — a migration — carries.
    /// </summary>
    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        ArgumentNullException.ThrowIfNull(dehydrationContext);
        dehydrationContext.TryAddValue("epoch", _epoch);
        dehydrationContext.TryAddValue("released-epoch", _releasedEpoch); // a holder released while it moved stays released
        dehydrationContext.TryAddValue("held-steps", _held.Select(h => h.Record.Step).ToArray());
        dehydrationContext.TryAddValue("held-records", _held.Select(h => h.Record).ToArray());
        MigratedSnapshots.Leave(dehydrationContext, "held-", parcels, GrainContext, [.. _held.Select(h => h.Units)], [.. _held.Select(h => h.Record)]);
        var done = _writes.Where(w => w.Value.IsCompletedSuccessfully).ToArray();
        dehydrationContext.TryAddValue("durable-steps", done.Select(w => w.Key).ToArray());
        dehydrationContext.TryAddValue("durable-records", done.Select(w => w.Value.Result.ToArray()).ToArray());
        if ((LeftLeavingSilo ? silo.SiloAddress : _leftLeavingSilo) is { } left)
            dehydrationContext.TryAddValue("left-leaving-silo", left.ToParsableString());
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        ArgumentNullException.ThrowIfNull(rehydrationContext);
        if (rehydrationContext.TryGetValue("epoch", out long epoch)) _epoch = epoch;
        if (rehydrationContext.TryGetValue("released-epoch", out long released)) _releasedEpoch = released;
        if (rehydrationContext.TryGetValue("held-steps", out long[]? steps) && steps is not null)
        {
            rehydrationContext.TryGetValue("held-records", out SnapshotRecord[]? held);
            SnapshotRecord[] heldRecords = [.. steps.Select((step, i) => held is not null && i < held.Length && held[i].Step == step ? held[i] : new SnapshotRecord(step, _epoch, null))];
            if (rehydrationContext.TryGetValue("held-units", out UnitImage[][]? units) && units is not null)
            {
                for (int i = 0; i < Math.Min(heldRecords.Length, units.Length); i++) // from a silo of a version before MigratedSnapshots
                    _held.Add((heldRecords[i], units[i]));
            }
            else if (MigratedSnapshots.Find(rehydrationContext, "held-") is { } parcel)
                _arriving = (heldRecords, parcel);
        }
        if (rehydrationContext.TryGetValue("durable-steps", out long[]? durable) && rehydrationContext.TryGetValue("durable-records", out ShardRecord[][]? records)
            && durable is not null && records is not null)
            for (int i = 0; i < Math.Min(durable.Length, records.Length); i++)
                _writes[durable[i]] = Task.FromResult<IReadOnlyList<ShardRecord>>(records[i]);
        if (rehydrationContext.TryGetValue("left-leaving-silo", out string? left) && left is not null) _leftLeavingSilo = SiloAddress.FromParsableString(left);
    }
}
