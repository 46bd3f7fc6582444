using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Jobs;
using Cluster.Grains.Placement;
using Cluster.Grains.Scheduling;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Stages;

/// <summary>The stage's state kept and restored: its own snapshots, its holders' copies, and restores from memory or a checkpoint.</summary>
internal sealed partial class PipelineStageGrain : IGrainMigrationParticipant
{
    public async Task Snapshot(long epoch, long completedSteps, bool durable, double? stepLoss)
    {
        // The device thread only copies the state to host buffers; the safetensors encoding runs on the thread pool,
        // with the device free. This whole-snapshot call is for moves and checkpoints at a step boundary: the step
        // loop's snapshots (in memory and durable) use BeginSnapshot / SnapshotHeld, which overlap the next step.
        var held = await StartSnapshot(epoch, completedSteps, durable, stepLoss);
        await held;
    }

    public async Task BeginSnapshot(long epoch, long completedSteps, bool durable, double? stepLoss) => await StartSnapshot(epoch, completedSteps, durable, stepLoss);

    /// <summary>
    /// Copies the state of <paramref name="completedSteps"/> on the device and starts its encoding, keeping and sending
    /// in the background (returned, and kept as <see cref="_snapshotInFlight"/>); returns once the copy is taken.
    /// <para>
    /// Invariant (one snapshot in flight): a stage has at most one background snapshot of its epoch, and copies the
    /// next one only once it has finished — and once the encoding of any older one has (the gate covers the wait, the
    /// copy and the hand-over, so reentrant calls queue). So the host buffers the device copies into (the executor's,
    /// <see cref="StageExecutor.CopyStateIntoKeptBuffers"/>) are reused from step to step: the copy that overwrites them
    /// starts only after the encoding of the last one, their only reader, is done; and a copy still queued on a device
    /// the stage has left (a hung one's, run whenever it comes back) writes its own executor's buffers, never a later
    /// configuration's (<see cref="StageExecutor"/>'s invariant on reused buffers). A snapshot of an epoch the stage has left is not
    /// waited for beyond its encoding (its holders may be retried for a while; the new epoch need not wait). The job's
    /// loop keeps the same rule — it begins the snapshot of a step only once the one before is held — this is the
    /// stage's own guard.
    /// </para>
    /// </summary>
    private async Task<Task> StartSnapshot(long epoch, long completedSteps, bool durable, double? stepLoss)
    {
        Fenced(epoch, completedSteps);
        await _snapshotGate.WaitAsync();
        try
        {
            await SettleSnapshotInFlight();
            var (executor, worker) = Fenced(epoch, completedSteps);
            var copies = (await OnDevice(worker, executor.CopyStateIntoKeptBuffers)).Value;
            var config = executor.Config;
            var encoded = Task.Run(() => (IReadOnlyList<UnitStateImage>)[.. copies.Select(c => c.Encode(config))], CancellationToken.None);
            _snapshotEncoded = encoded;
            _snapshotInFlightStep = completedSteps;
            _snapshotInFlightEpoch = epoch;
            _snapshotInFlight = KeepAndSend(encoded, new SnapshotRecord(completedSteps, epoch, stepLoss), executor.Stage, durable, _epochCalls.Token);
            return _snapshotInFlight;
        }
        finally
        {
            _snapshotGate.Release();
        }
    }

    public async Task SnapshotHeld(long epoch, long completedSteps)
    {
        if (epoch != _epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        if (_snapshotInFlight is not { } inFlight || _snapshotInFlightStep != completedSteps || _snapshotInFlightEpoch != epoch)
            throw new InvalidOperationException($"Stage {this.GetPrimaryKeyString()} has no snapshot of step {completedSteps} in flight (its last one is of step {_snapshotInFlightStep}).");
        await inFlight;
    }

    /// <summary>Waits until the buffers are free and this epoch has no snapshot in flight; a failure was its waiter's (<see cref="SnapshotHeld"/>) to report.</summary>
    private async Task SettleSnapshotInFlight()
    {
        foreach (var pending in new[] { _snapshotEncoded, _snapshotInFlightEpoch == _epoch ? _snapshotInFlight : null })
        {
            if (pending is null || pending.IsCompleted) continue;
            try
            {
                await pending;
            }
            catch (Exception e)
            {
                LogSnapshotInFlightFailed(logger, this.GetPrimaryKeyString(), _snapshotInFlightStep, ShortError.Of(e));
            }
        }
    }

    /// <summary>How long a release waits for a snapshot still on its way to a holder (one call: its retries stop with the epoch).</summary>
    private static readonly TimeSpan ReleaseSendLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Invariant (release is final): once <see cref="Release"/> returns, no copy of this stage's snapshots reaches a
    /// holder any more. The job releases a finished job's holders after its stages (<c>TrainingJobGrain.Finish</c>);
    /// a copy still on its way then would land on a released holder — re-creating it, with two copies of the stage's
    /// state that nothing reads, kept until idle collection. So the release first stops the epoch's calls (a send's
    /// retries end with its epoch, <see cref="SendToHolder"/>) and then waits for the send in flight, whatever its
    /// epoch, up to <see cref="ReleaseSendLimit"/> (a holder on a frozen silo answers only at the call's timeout). A copy
    /// that outlives that wait is the holder's to refuse: a released holder stays until such a call has expired
    /// (<c>CheckpointShardGrain</c>, the holder's half of the invariant).
    /// </summary>
    private async Task SettleSendsAtRelease()
    {
        if (_snapshotInFlight is not { IsCompleted: false } inFlight) return;
        try
        {
            await inFlight.WaitAsync(ReleaseSendLimit, time);
        }
        catch (TimeoutException)
        {
            LogSnapshotSendOutlivedRelease(logger, this.GetPrimaryKeyString(), _snapshotInFlightStep, ReleaseSendLimit.TotalSeconds);
        }
        catch (Exception e)
        {
            LogSnapshotInFlightFailed(logger, this.GetPrimaryKeyString(), _snapshotInFlightStep, ShortError.Of(e));
        }
    }

    /// <summary>
    /// Keeps this stage's own copy of the encoded (checksum included) snapshot and hands it to the holders. Only rank 0
    /// is asked to snapshot (<c>ReplicaStages.Snapshotting</c>); another rank, if asked, keeps its copy only. A copy
    /// of an epoch the stage has left since (<paramref name="epochCalls"/> cancelled by a new <c>Configure</c> or a
    /// release) is dropped before it is kept: it belongs to a timeline the job abandoned.
    /// </summary>
    private async Task KeepAndSend(Task<IReadOnlyList<UnitStateImage>> encoded, SnapshotRecord record, int stage, bool durable, CancellationToken epochCalls)
    {
        var images = await encoded;
        epochCalls.ThrowIfCancellationRequested();
        KeepOwn(record, images);
        if (_rank != 0) return; // replicas hold the same state: the first one's copy goes to the holders
        await SendToHolders(record, stage, images, durable, epochCalls);
    }

    /// <summary>Keeps this stage's own copy of a step (the two newest); a rewound or repeated step replaces the old timeline.</summary>
    private void KeepOwn(SnapshotRecord record, IReadOnlyList<UnitStateImage> images)
    {
        _ownSnapshots.RemoveAll(o => o.Record.Step >= record.Step);
        _ownSnapshots.Add((record, images));
        if (_ownSnapshots.Count > 2) _ownSnapshots.RemoveAt(0);
    }

    /// <summary>
    /// Rule (3) of the redundancy invariant (see <see cref="CheckpointShardGrain"/>): a stage just configured — moved,
    /// joined, restarted, re-activated or rewound — holds its state of the step it resumes from and hands it to its
    /// holders before the job runs the next step, so a holder lost with its silo, or one the stage moved next to, is
    /// back on another silo first. Only rank 0's stages seed (<c>Configure</c>): with replicas, its copies are every rank's.
    /// </summary>
    private async Task SeedSnapshotHolders(StageExecutor executor, DeviceWorker worker)
    {
        long step = executor.CompletedSteps;
        var (kept, own) = _ownSnapshots.FirstOrDefault(o => o.Record.Step == step);
        var record = new SnapshotRecord(step, _epoch, kept?.StepLoss);
        if (own is null or { Count: 0 })
        {
            own = (await worker.Run(executor.ExportState)).Value;
            KeepOwn(record, own);
        }
        await SendToHolders(record, executor.Stage, own, durable: false, _epochCalls.Token);
    }

    private async Task SendToHolders(SnapshotRecord record, int stage, IReadOnlyList<UnitStateImage> images, bool durable, CancellationToken epochCalls)
    {
        var units = ToUnitImages(images);
        string jobId = _assignment!.Job.JobId;
        await Task.WhenAll(SnapshotHolders.Keys(jobId, stage, _assignment.Job.SnapshotReplicas)
            .Select((key, h) => SendToHolder(GrainFactory.GetGrain<ICheckpointShardGrain>(key), record, stage, units, durable && h == 0, epochCalls)));
    }

    /// <summary>
    /// How long a holder whose silo died is asked again before the snapshot fails. Once the membership declares the
    /// silo dead (about 1–2 s with the fast failure-detection profile, 10–13 s with Orleans' defaults) the next call
    /// re-creates the holder on a live silo; the limit covers the slow profile with room to spare.
    /// </summary>
    private static readonly TimeSpan HolderUnreachableLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Hands a snapshot to one holder, naming this silo so the holder can tell it is on the wrong one; a holder that
    /// was (it moves away) is retried until the copy is held elsewhere. A holder whose silo died is retried too, until
    /// the call re-creates it on a live silo (<see cref="HolderUnreachableLimit"/>): the loss of a silo that holds only
    /// snapshot copies is repaired here, before the snapshot is acknowledged, and is no failure of this stage. Letting
    /// Orleans' <see cref="SiloUnavailableException"/> out would also be wrong: its text names this stage's silo as the
    /// sender, so the job's recovery reported this (healthy) node unreachable and moved the stage — and a moved stage
    /// whose holder was the one lost had no copy left (issue 16's "s0: none" recoveries).
    /// </summary>
    private async Task SendToHolder(ICheckpointShardGrain holder, SnapshotRecord record, int stage, UnitImage[] units, bool durable, CancellationToken epochCalls)
    {
        long step = record.Step;
        var deadline = time.GetUtcNow() + HolderUnreachableLimit;
        for (int attempt = 1; ; attempt++)
        {
            epochCalls.ThrowIfCancellationRequested(); // the stage left this epoch (moved, rewound or released): nobody waits for this copy
            RequestContext.Set(PlacementContextKeys.AvoidSilo, workers.SiloName);
            Task accept;
            try
            {
                // Every call of the transfer (each further chunk, then the headers) carries the hint: it was captured here.
                accept = UnitImages.SendAsync(holder, record, stage, units, durable, epochCalls);
            }
            finally
            {
                RequestContext.Remove(PlacementContextKeys.AvoidSilo);
            }
            try
            {
                await accept;
                return;
            }
            catch (SnapshotHolderMisplacedException e) when (attempt < 50)
            {
                LogHolderMoving(logger, this.GetPrimaryKeyString(), e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 20 * attempt)), time, epochCalls); // the holder is leaving this silo
            }
            catch (Exception e) when (UnreachableNodes.IsDeliveryFailure(e)) // the holder's silo died (or is dying)
            {
                if (time.GetUtcNow() >= deadline)
                    throw new SnapshotHolderUnreachableException(
                        $"Stage {this.GetPrimaryKeyString()}: snapshot holder {holder.GetPrimaryKeyString()} could not be reached for {HolderUnreachableLimit.TotalSeconds:0} s ({e.GetType().Name}); the snapshot of step {step} is not held away from the stage.");
                LogHolderUnreachable(logger, this.GetPrimaryKeyString(), holder.GetPrimaryKeyString(), e.GetType().Name);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * attempt)), time, epochCalls); // until its silo is declared dead
            }
        }
    }


    /// <summary>
    /// A stage moved by the job (a recovery that re-places it, a drain, a straggler move) migrates from its old silo
    /// (see <c>Configure</c>) and takes its own snapshot copies along: they are one of the two copies the redundancy
    /// invariant counts (the job's recovery counts them wherever the stage lives), so a move must not drop them while
    /// the other copy may be the one a silo failure just took. The images stay on the old silo and the new activation
    /// takes them before it serves a call (<see cref="MigratedSnapshots"/>): a stage's state exceeds what one message
    /// carries.
    /// </summary>
    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        ArgumentNullException.ThrowIfNull(dehydrationContext);
        dehydrationContext.TryAddValue("own-steps", _ownSnapshots.Select(o => o.Record.Step).ToArray());
        dehydrationContext.TryAddValue("own-records", _ownSnapshots.Select(o => o.Record).ToArray());
        // Its first holder is heir to the parcel: should the move fail with that holder's copies lost (the silo the stage
        // moves onto killed, the holder there too), the re-created holder takes these over (MigrationParcels' invariant).
        string? heir = SnapshotHolders.FirstOfStage(this.GetPrimaryKeyString()) is { } first ? GrainFactory.GetGrain<ICheckpointShardGrain>(first).GetGrainId().ToString() : null;
        MigratedSnapshots.Leave(dehydrationContext, "own-", parcels, GrainContext, [.. _ownSnapshots.Select(o => (IReadOnlyList<UnitImage>)ToUnitImages(o.Units))],
            [.. _ownSnapshots.Select(o => o.Record)], heir);
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        ArgumentNullException.ThrowIfNull(rehydrationContext);
        if (!rehydrationContext.TryGetValue("own-steps", out long[]? steps) || steps is null) return;
        rehydrationContext.TryGetValue("own-records", out SnapshotRecord[]? records);
        SnapshotRecord[] arriving = [.. steps.Select((step, i) => records is not null && i < records.Length && records[i].Step == step ? records[i] : new SnapshotRecord(step, _epoch, null))];
        if (rehydrationContext.TryGetValue("own-units", out UnitImage[][]? units) && units is not null)
            KeepArriving(arriving, units); // from a silo of a version before MigratedSnapshots: the images came in the context
        else if (MigratedSnapshots.Find(rehydrationContext, "own-") is { } parcel)
            _arriving = (arriving, parcel);
    }

    /// <summary>A stage that migrated here takes the copies it left on its old silo before it serves any call.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_arriving is not var (records, parcel)) return;
        _arriving = null;
        try
        {
            KeepArriving(records, await parcel.TakeAsync(GrainFactory, time, cancellationToken));
        }
        catch (Exception e)
        {
            // The old silo died (or the activation ran out of time) before the copies were across: as if the stage had stayed there.
            LogMigratedSnapshotsLost(logger, e, this.GetPrimaryKeyString(), parcel.Silo, string.Join(", ", records.Select(r => r.Step)));
        }
    }

    private void KeepArriving(SnapshotRecord[] records, UnitImage[][] units)
    {
        for (int i = 0; i < Math.Min(records.Length, units.Length); i++)
            KeepOwn(records[i], [.. units[i].Select(u => new UnitStateImage(u.UnitIndex, u.UnitName, records[i].Step, UnitImages.Bytes(u)))]);
    }

    public Task<IReadOnlyList<UnitImage>?> GetSnapshot(long completedSteps) =>
        Task.FromResult<IReadOnlyList<UnitImage>?>(_ownSnapshots.Where(o => o.Record.Step == completedSteps)
            .Select(o => (IReadOnlyList<UnitImage>)[.. ToUnitImages(o.Units).Select(UnitImages.Header)]).FirstOrDefault());

    public Task<byte[]?> GetSnapshotChunk(long completedSteps, int unitIndex, int index) =>
        Task.FromResult(UnitImages.Chunk(_ownSnapshots.Where(o => o.Record.Step == completedSteps).Select(o => ToUnitImages(o.Units)).FirstOrDefault(), unitIndex, index));

    private static UnitImage[] ToUnitImages(IReadOnlyList<UnitStateImage> images) => [.. images.Select(UnitImages.Whole)];

    public Task<long> GetSnapshotStep() => Task.FromResult(_ownSnapshots.Count > 0 ? _ownSnapshots[^1].Record.Step : -1);

    public Task<long[]> GetSnapshotSteps() => Task.FromResult(_ownSnapshots.Select(o => o.Record.Step).ToArray());

    public Task<SnapshotRecord[]> GetSnapshotRecords() => Task.FromResult(_ownSnapshots.Select(o => o.Record).ToArray());

    private async Task Restore(DeviceWorker worker, StageExecutor executor, CheckpointManifest manifest)
    {
        var (start, end) = executor.Plan.UnitRange(executor.Stage);
        var images = new Dictionary<string, (ChunkedBytes Image, string Source)>(StringComparer.Ordinal);
        for (int unit = start; unit < end; unit++)
        {
            string unitName = ModelLayout.UnitName(executor.Config, unit);
            var record = manifest.Shards.FirstOrDefault(s => s.UnitName == unitName)
                ?? throw new CheckpointCorruptException($"{manifest.JobId}/step {manifest.Step}", $"its manifest lists no shard for unit '{unitName}'.");
            var image = await store.ReadShardChunksAsync(manifest, record.Name);
            string actual = await Task.Run(() => image.Sha256Hex()); // the whole image, chunk by chunk; off the grain's turn
            if (actual != record.Sha256)
                throw new CheckpointCorruptException($"{manifest.JobId}/step-{manifest.Step}/{record.Name}", $"its SHA-256 {actual[..12]}… does not match the manifest's {record.Sha256[..Math.Min(12, record.Sha256.Length)]}….");
            images[unitName] = (image, $"{manifest.JobId}/step-{manifest.Step}/{record.Name}");
        }
        await worker.Run(() => executor.ImportState(unit => images[unit]));
        if (executor.CompletedSteps != manifest.Step)
            throw new CheckpointCorruptException($"{manifest.JobId}/step {manifest.Step}", $"its shards hold optimizer step {executor.CompletedSteps}, not {manifest.Step}.");
    }

    /// <summary>
    /// Loads the in-memory snapshot of <paramref name="step"/>: this stage's own copy when it survived the failure,
    /// else a copy one of its snapshot holders keeps on another silo, else a peer replica's (<paramref name="peers"/>: one
    /// that stayed on its node, or one that moved with its copies).
    /// </summary>
    private async Task RestoreFromMemory(DeviceWorker worker, StageExecutor executor, string jobId, long step, IReadOnlyList<string> peers, int snapshotReplicas)
    {
        string shardKey = StageKeys.Shard(jobId, executor.Stage);
        string[] holders = [.. SnapshotHolders.Keys(jobId, executor.Stage, snapshotReplicas)];
        Dictionary<string, (ChunkedBytes Image, string Source)>? images = null;
        if (_ownSnapshots.FirstOrDefault(o => o.Record.Step == step) is { Units.Count: > 0 } own)
            images = own.Units.ToDictionary(u => u.UnitName, u => (u.Image, $"{this.GetPrimaryKeyString()} (own memory, step {step})"), StringComparer.Ordinal);
        var tried = new List<string>();
        foreach (string source in holders.Concat(peers))
        {
            if (images is not null) break;
            try
            {
                async Task<IReadOnlyList<UnitImage>?> Read()
                {
                    if (holders.Contains(source))
                    {
                        var holder = GrainFactory.GetGrain<ICheckpointShardGrain>(source);
                        return await UnitImages.FetchAsync(await holder.GetSnapshot(step), (unit, index) => holder.GetSnapshotChunk(step, unit, index));
                    }
                    var peer = GrainFactory.GetGrain<IPipelineStageGrain>(source);
                    return await UnitImages.FetchAsync(await peer.GetSnapshot(step).WaitAsync(TimeSpan.FromSeconds(5)),
                        (unit, index) => peer.GetSnapshotChunk(step, unit, index).WaitAsync(TimeSpan.FromSeconds(30)));
                }
                IReadOnlyList<UnitImage>? units;
                try
                {
                    units = await Read();
                }
                catch (Exception e) when (e is not (CheckpointCorruptException or TimeoutException))
                {
                    // A holder that moved since this silo last called it is reached at its old, dead, silo once;
                    // the failure drops that address: ask again.
                    units = await Read();
                }
                if (units is null) tried.Add($"{source} no longer holds it");
                else images = units.ToDictionary(u => u.UnitName, u => (UnitImages.Bytes(u), $"{source} (memory, step {step})"), StringComparer.Ordinal);
            }
            catch (Exception e) when (e is not CheckpointCorruptException)
            {
                tried.Add($"{source} could not be reached ({e.Message})");
            }
        }
        if (images is null)
            throw new CheckpointCorruptException($"{shardKey} (memory)", $"no copy of the snapshot of step {step} is left: {string.Join("; ", tried)}.");
        await worker.Run(() => executor.ImportState(unit => images.TryGetValue(unit, out var image) ? image
            : throw new CheckpointCorruptException($"{shardKey} (memory)", $"its snapshot has no unit '{unit}'.")));
        if (executor.CompletedSteps != step)
            throw new CheckpointCorruptException($"{shardKey} (memory)", $"its snapshot holds optimizer step {executor.CompletedSteps}, not {step}.");
    }
}
