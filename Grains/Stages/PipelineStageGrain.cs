using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Jobs;
using Cluster.Grains.Placement;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Stages;

/// <summary>
/// A slice of a job's model, living on its node's silo; its <see cref="StageExecutor"/> (module, optimizer state,
/// in-flight micro-batches) belongs to the node's device worker and is only ever touched there. Reentrant: while one
/// micro-batch waits for the stages after it, the next one can start — the device worker serialises the compute.
/// With data-parallel replicas, this stage of every replica runs its block of the step's micro-batches, then they
/// all-reduce their gradients: each rank reduces one chunk of the flat gradient vector from every rank's values in the
/// canonical order (reduce-scatter), then gathers the others' reduced chunks (all-gather) — the same bits as one
/// replica, with each rank sending and receiving about twice the vector, like a ring all-reduce.
/// </summary>
[Reentrant]
[AssignedNodePlacement]
internal sealed partial class PipelineStageGrain(
    DeviceWorkerPool workers,
    ComputeSlowdown slowdown,
    TokenSourceCache corpora,
    ICheckpointStore store,
    TimeProvider time,
    ILogger<PipelineStageGrain> logger) : Grain, IPipelineStageGrain
{
    private long _epoch = -1;
    private StageAssignment? _assignment;
    private StageExecutor? _executor;
    private DeviceWorker? _worker;
    private BatchSampler? _sampler;
    private IPipelineStageGrain? _next;
    private float _lossScale;
    private CancellationTokenSource _epochCalls = new(); // cancels this epoch's calls still waiting downstream
    // The two newest snapshots (a failure mid-snapshot leaves stages one step apart); survive re-configuration, not the silo.
    private readonly List<(long Step, IReadOnlyList<UnitStateImage> Units)> _ownSnapshots = [];
    private double _stepComputeMs;
    private int _rank;
    private int[] _replicaIds = [];
    private int _firstMicroBatch; // global index of this replica's first micro-batch in each step
    private int _microBatches; // this replica's micro-batches per step
    private StepReduction? _reduction;

    /// <summary>One step's all-reduce as this rank sees it: its local gradients, and its reduced chunk once reduced.</summary>
    private sealed class StepReduction(long epoch, long step)
    {
        public long Epoch { get; } = epoch;

        public long Step { get; } = step;

        public TaskCompletionSource<float[]> Local { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<float[]> Reduced { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task Configure(StageAssignment assignment)
    {
        if (assignment.Epoch < _epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), assignment.Epoch, _epoch);
        var worker = workers.Find(assignment.NodeId);
        if (worker is null)
        {
            // Placed for another node before: migrate to the new node's silo (the placement director reads the node from
            // this call's request context). Plain deactivation would not do: callers' cached address of this silo
            // would re-create the stage here. Calls of the old epoch still waiting downstream are cut loose first.
            CancelEpochCalls();
            await DropExecutor();
            this.MigrateOnIdle();
            throw new StageMisplacedException($"Stage {this.GetPrimaryKeyString()} is on silo '{workers.SiloName}', but node '{assignment.NodeId}' is elsewhere; retry to activate it there.");
        }
        CancelEpochCalls();
        await DropExecutor();

        var spec = assignment.Job;
        var plan = StagePlan.FromUnitCounts(JobSpecs.ToModelConfig(spec.Model), assignment.UnitsPerStage);
        var optimizer = JobSpecs.ToOptimizerConfig(spec.Optimizer, spec.Steps);
        var executor = (await worker.Run(() => new StageExecutor(plan, assignment.Stage, optimizer, worker.Device))).Value;
        try
        {
            if (assignment.RestoreFromMemoryStep is { } memoryStep)
                await RestoreFromMemory(worker, executor, spec.JobId, memoryStep, assignment.SnapshotPeers, spec.SnapshotReplicas);
            else if (assignment.RestoreFrom is { } manifest)
                await Restore(worker, executor, manifest);
        }
        catch (CheckpointCorruptException e)
        {
            await worker.Run(executor.Dispose);
            throw new CheckpointUnusableException(e.Source, e.Message); // a type every silo and client can deserialise
        }
        catch
        {
            await worker.Run(executor.Dispose);
            throw;
        }

        // Copies after the restored step belong to a timeline the job left (a rewind or a lost step); earlier ones are shared.
        _ownSnapshots.RemoveAll(o => o.Step > executor.CompletedSteps);
        _executor = executor;
        _worker = worker;
        _worker.StageAttached();
        _assignment = assignment;
        _epoch = assignment.Epoch;
        _lossScale = LossReduction.Scale(spec.MicroBatches); // of the global batch, whatever the replica count
        _replicaIds = assignment.ReplicaIds.Length > 0 ? assignment.ReplicaIds : [assignment.Replica];
        _rank = Array.IndexOf(_replicaIds, assignment.Replica);
        if (_rank < 0)
            throw new ArgumentException($"Stage {this.GetPrimaryKeyString()}: replica {assignment.Replica} is not among the job's replicas ({string.Join(", ", _replicaIds)}).", nameof(assignment));
        _microBatches = ReplicaSplit.PerReplica(spec.MicroBatches, _replicaIds.Length);
        _firstMicroBatch = _rank * _microBatches;
        _reduction = null;
        _sampler = executor.IsFirst || executor.IsLast
            ? new BatchSampler(corpora.Get(spec.DataSource), plan.Config.ContextLength, spec.MicroBatchSize, spec.DataSeed, plan.Config.VocabSize)
            : null;
        _next = executor.IsLast ? null : GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, assignment.Replica, assignment.Stage + 1));
        if (spec.SnapshotInterval > 0)
            await SeedSnapshotHolders(executor, worker);
        LogConfigured(logger, this.GetPrimaryKeyString(), assignment.Epoch, assignment.NodeId, plan.ToString(), executor.CompletedSteps);
    }

    public async Task<MicroBatchResult> RunMicroBatch(long epoch, long step, int globalMicroBatch, TensorPayload? input)
    {
        using var activity = Telemetry.TrainingActivities.StageMicroBatch(this.GetPrimaryKeyString(), epoch, step, globalMicroBatch);
        var (executor, worker) = Fenced(epoch, step);
        int microBatch = globalMicroBatch - _firstMicroBatch; // the executor's accumulator counts this replica's block from 0
        if (microBatch < 0 || microBatch >= _microBatches)
            throw new ArgumentOutOfRangeException(nameof(globalMicroBatch), globalMicroBatch,
                $"Stage {this.GetPrimaryKeyString()} (rank {_rank} of {_replicaIds.Length}) runs micro-batches {_firstMicroBatch}…{_firstMicroBatch + _microBatches - 1}.");
        MicroBatch? batch = executor.IsFirst || executor.IsLast ? _sampler!.Sample(step, globalMicroBatch) : null;
        WireTensor activations = executor.IsFirst
            ? TensorWire.FromTokens(batch!.Inputs, batch.Rows, batch.Columns)
            : (input ?? throw new ArgumentNullException(nameof(input), $"Stage {executor.Stage} needs the activations of stage {executor.Stage - 1}.")).ToWire();
        if (executor.IsLast)
        {
            // The last stage turns forward straight into backward: one unit of work on the device.
            var targets = TensorWire.FromTokens(batch!.Targets, batch.Rows, batch.Columns);
            var done = await Compute(worker, step, microBatch, Telemetry.TrainingActivities.ForwardBackwardName, () =>
            {
                double loss = executor.ForwardLoss(microBatch, activations, targets);
                return (Loss: loss, Gradient: executor.Backward(microBatch, null, _lossScale));
            });
            _stepComputeMs += done.Ran.TotalMilliseconds;
            return new MicroBatchResult(done.Value.Loss, done.Value.Gradient?.ToPayload(), done.Ran.TotalMilliseconds, done.Queued.TotalMilliseconds);
        }

        var forward = await Compute(worker, step, microBatch, Telemetry.TrainingActivities.ForwardName, () => executor.Forward(microBatch, activations));
        var downstream = await _next!.RunMicroBatch(epoch, step, globalMicroBatch, forward.Value.ToPayload()).WaitAsync(_epochCalls.Token);
        Fenced(epoch, step);
        var backward = await Compute(worker, step, microBatch, Telemetry.TrainingActivities.BackwardName, () => executor.Backward(microBatch, downstream.InputGradient?.ToWire(), _lossScale));
        double compute = forward.Ran.TotalMilliseconds + backward.Ran.TotalMilliseconds;
        _stepComputeMs += compute;
        return new MicroBatchResult(downstream.Loss, backward.Value?.ToPayload(),
            downstream.ComputeMs + compute, downstream.QueueMs + forward.Queued.TotalMilliseconds + backward.Queued.TotalMilliseconds);
    }

    /// <summary>Runs this stage's own compute; only its failures count against the node's health (not downstream ones).</summary>
    private async Task<Timed<T>> Compute<T>(DeviceWorker worker, long step, int microBatch, string span, Func<T> work)
    {
        using var activity = Telemetry.TrainingActivities.StageCompute(span, worker.NodeId, step, microBatch);
        try
        {
            var delay = slowdown.For(worker.NodeId);
            return delay <= TimeSpan.Zero ? await OnDevice(worker, work) : await OnDevice(worker, () =>
            {
                Thread.Sleep(delay); // the device worker is busy for that long: a slow device, as the node sees it
                return work();
            });
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            // Work of an epoch that has since been abandoned fails by design (its executor was dropped): that says
            // nothing about the device, so only failures of the live epoch count against the node.
            if (ReferenceEquals(_worker, worker) && _executor is not null && _executor.CompletedSteps == step)
                worker.RecordError($"{this.GetPrimaryKeyString()} step {step} micro-batch {microBatch}: {e.Message}");
            throw;
        }
    }

    public async Task<double[]> GradientSquares(long epoch, long step)
    {
        var (executor, worker) = Fenced(epoch, step);
        if (_replicaIds.Length > 1)
            await AllReduce(epoch, step, executor, worker);
        var result = await OnDevice(worker, executor.GradientSquares);
        _stepComputeMs += result.Ran.TotalMilliseconds;
        return result.Value;
    }

    /// <summary>Reduce-scatter then all-gather over the same stage of every replica; leaves the reduced gradients in the executor.</summary>
    private async Task AllReduce(long epoch, long step, StageExecutor executor, DeviceWorker worker)
    {
        var reduction = Reduction(epoch, step);
        var local = await OnDevice(worker, executor.LocalGradients);
        _stepComputeMs += local.Ran.TotalMilliseconds;
        reduction.Local.TrySetResult(local.Value);

        int ranks = _replicaIds.Length;
        var (start, end) = ReplicaReduction.Chunk(local.Value.Length, ranks, _rank);
        var parts = await Task.WhenAll(Enumerable.Range(0, ranks).Select(q => q == _rank
            ? Task.FromResult(local.Value[start..end])
            : Peer(q).GetGradientChunk(epoch, step, _rank).WaitAsync(_epochCalls.Token)));
        Fenced(epoch, step);
        var reduced = await OnDevice(worker, () => ReplicaReduction.Sum(parts));
        _stepComputeMs += reduced.Ran.TotalMilliseconds;
        reduction.Reduced.TrySetResult(reduced.Value);

        var chunks = await Task.WhenAll(Enumerable.Range(0, ranks).Select(q => q == _rank
            ? Task.FromResult(reduced.Value)
            : Peer(q).GetReducedChunk(epoch, step).WaitAsync(_epochCalls.Token)));
        Fenced(epoch, step);
        var full = new float[local.Value.Length];
        for (int q = 0; q < ranks; q++)
        {
            var (from, to) = ReplicaReduction.Chunk(full.Length, ranks, q);
            if (chunks[q].Length != to - from)
                throw new InvalidOperationException($"Replica rank {q} sent {chunks[q].Length} reduced values for chunk {from}…{to}: the replicas run different stage plans.");
            chunks[q].CopyTo(full, from);
        }
        var applied = await OnDevice(worker, () => { executor.UseReducedGradients(full); return true; });
        _stepComputeMs += applied.Ran.TotalMilliseconds;
    }

    public async Task<float[]> GetGradientChunk(long epoch, long step, int chunk)
    {
        Fenced(epoch, step);
        if (chunk < 0 || chunk >= _replicaIds.Length)
            throw new ArgumentOutOfRangeException(nameof(chunk), chunk, $"Stage {this.GetPrimaryKeyString()} has {_replicaIds.Length} replicas, so chunks 0…{_replicaIds.Length - 1}.");
        var local = await Reduction(epoch, step).Local.Task.WaitAsync(_epochCalls.Token);
        var (start, end) = ReplicaReduction.Chunk(local.Length, _replicaIds.Length, chunk);
        return local[start..end];
    }

    public async Task<float[]> GetReducedChunk(long epoch, long step)
    {
        Fenced(epoch, step);
        return await Reduction(epoch, step).Reduced.Task.WaitAsync(_epochCalls.Token);
    }

    /// <summary>This step's all-reduce (made by whichever of the job's call or a peer's arrives first).</summary>
    private StepReduction Reduction(long epoch, long step)
    {
        if (_reduction is null || _reduction.Epoch != epoch || _reduction.Step != step)
            _reduction = new StepReduction(epoch, step);
        return _reduction;
    }

    private IPipelineStageGrain Peer(int rank) =>
        GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(_assignment!.Job.JobId, _replicaIds[rank], _executor!.Stage));

    public async Task<double> ApplyUpdate(long epoch, long step, double clipCoefficient)
    {
        var (executor, worker) = Fenced(epoch, step);
        var result = await OnDevice(worker, () => { executor.ApplyUpdate(clipCoefficient); return true; });
        _reduction = null;
        double stepMs = _stepComputeMs + result.Ran.TotalMilliseconds;
        worker.RecordStep(stepMs);
        _stepComputeMs = 0;
        return stepMs;
    }

    public async Task Snapshot(long epoch, long completedSteps, bool durable)
    {
        var (executor, worker) = Fenced(epoch, completedSteps);
        var images = (await OnDevice(worker, executor.ExportState)).Value;
        KeepOwn(completedSteps, images);
        if (_rank != 0) return; // replicas hold the same state: the first one's copy goes to the holders
        await SendToHolders(epoch, completedSteps, executor.Stage, images, durable);
    }

    /// <summary>Keeps this stage's own copy of a step (the two newest); a rewound or repeated step replaces the old timeline.</summary>
    private void KeepOwn(long step, IReadOnlyList<UnitStateImage> images)
    {
        _ownSnapshots.RemoveAll(o => o.Step >= step);
        _ownSnapshots.Add((step, images));
        if (_ownSnapshots.Count > 2) _ownSnapshots.RemoveAt(0);
    }

    /// <summary>
    /// Rule (3) of the redundancy invariant (see <see cref="CheckpointShardGrain"/>): a stage just configured — moved,
    /// joined, restarted, re-activated or rewound — holds its state of the step it resumes from and hands it to its
    /// holders before the job runs the next step, so a holder lost with its silo, or one the stage moved next to, is
    /// back on another silo first.
    /// </summary>
    private async Task SeedSnapshotHolders(StageExecutor executor, DeviceWorker worker)
    {
        long step = executor.CompletedSteps;
        var own = _ownSnapshots.FirstOrDefault(o => o.Step == step).Units;
        if (own is null or { Count: 0 })
        {
            own = (await worker.Run(executor.ExportState)).Value;
            KeepOwn(step, own);
        }
        if (_rank == 0)
            await SendToHolders(_epoch, step, executor.Stage, own, durable: false);
    }

    private async Task SendToHolders(long epoch, long step, int stage, IReadOnlyList<UnitStateImage> images, bool durable)
    {
        var units = ToUnitImages(images);
        string jobId = _assignment!.Job.JobId;
        await Task.WhenAll(Enumerable.Range(0, SnapshotHolders.For(_assignment.Job.SnapshotReplicas))
            .Select(h => SendToHolder(GrainFactory.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key(jobId, stage, h)), epoch, step, stage, units, durable && h == 0)));
    }

    /// <summary>
    /// Hands a snapshot to one holder, naming this silo so the holder can tell it is on the wrong one; a holder that
    /// was (it moves away) is retried until the copy is held elsewhere.
    /// </summary>
    private async Task SendToHolder(ICheckpointShardGrain holder, long epoch, long step, int stage, UnitImage[] units, bool durable)
    {
        for (int attempt = 1; ; attempt++)
        {
            RequestContext.Set(PlacementContextKeys.AvoidSilo, workers.SiloName);
            Task accept;
            try
            {
                accept = holder.Accept(epoch, step, stage, units, durable);
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
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 20 * attempt)), time); // the holder is leaving this silo
            }
        }
    }

    public Task<IReadOnlyList<UnitImage>?> GetSnapshot(long completedSteps) =>
        Task.FromResult<IReadOnlyList<UnitImage>?>(_ownSnapshots.Where(o => o.Step == completedSteps)
            .Select(o => ToUnitImages(o.Units)).FirstOrDefault());

    private static UnitImage[] ToUnitImages(IReadOnlyList<UnitStateImage> images) => [.. images.Select(i => new UnitImage(i.UnitIndex, i.UnitName, i.Image))];

    public Task<long> GetSnapshotStep() => Task.FromResult(_ownSnapshots.Count > 0 ? _ownSnapshots[^1].Step : -1);

    public Task<long[]> GetSnapshotSteps() => Task.FromResult(_ownSnapshots.Select(o => o.Step).ToArray());

    public async Task Release(long epoch)
    {
        if (epoch < _epoch)
        {
            if (_executor is null) DeactivateOnIdle();
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        }
        CancelEpochCalls();
        await DropExecutor();
        DeactivateOnIdle();
    }

    private void CancelEpochCalls()
    {
        _epochCalls.Cancel();
        _epochCalls.Dispose();
        _epochCalls = new CancellationTokenSource();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => await DropExecutor();

    private (StageExecutor Executor, DeviceWorker Worker) Fenced(long epoch, long step)
    {
        if (_executor is null || _worker is null)
        {
            // An activation without a stage (released, or revived by a late message while it was leaving) serves no
            // one: leave at once instead of lingering until idle collection.
            DeactivateOnIdle();
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        }
        if (epoch != _epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        if (step != _executor.CompletedSteps)
            throw new InvalidOperationException($"Stage {this.GetPrimaryKeyString()} has completed {_executor.CompletedSteps} steps; a call for step {step} is out of order.");
        return (_executor, _worker);
    }

    private async Task Restore(DeviceWorker worker, StageExecutor executor, CheckpointManifest manifest)
    {
        var (start, end) = executor.Plan.UnitRange(executor.Stage);
        var images = new Dictionary<string, (byte[] Image, string Source)>(StringComparer.Ordinal);
        for (int unit = start; unit < end; unit++)
        {
            string unitName = ModelLayout.UnitName(executor.Config, unit);
            var record = manifest.Shards.FirstOrDefault(s => s.UnitName == unitName)
                ?? throw new CheckpointCorruptException($"{manifest.JobId}/step {manifest.Step}", $"its manifest lists no shard for unit '{unitName}'.");
            byte[] image = await store.ReadShardAsync(manifest.JobId, manifest.Step, record.Name);
            string actual = Convert.ToHexStringLower(SHA256.HashData(image));
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
    /// else a copy one of its snapshot holders keeps on another silo, else a surviving replica's.
    /// </summary>
    private async Task RestoreFromMemory(DeviceWorker worker, StageExecutor executor, string jobId, long step, IReadOnlyList<string> peers, int snapshotReplicas)
    {
        string shardKey = StageKeys.Shard(jobId, executor.Stage);
        string[] holders = [.. Enumerable.Range(0, SnapshotHolders.For(snapshotReplicas)).Select(h => SnapshotHolders.Key(jobId, executor.Stage, h))];
        Dictionary<string, (byte[] Image, string Source)>? images = null;
        if (_ownSnapshots.FirstOrDefault(o => o.Step == step) is { Units.Count: > 0 } own)
            images = own.Units.ToDictionary(u => u.UnitName, u => (u.Image, $"{this.GetPrimaryKeyString()} (own memory, step {step})"), StringComparer.Ordinal);
        var tried = new List<string>();
        foreach (string source in holders.Concat(peers))
        {
            if (images is not null) break;
            try
            {
                Task<IReadOnlyList<UnitImage>?> Read() => holders.Contains(source)
                    ? GrainFactory.GetGrain<ICheckpointShardGrain>(source).GetSnapshot(step)
                    : GrainFactory.GetGrain<IPipelineStageGrain>(source).GetSnapshot(step).WaitAsync(TimeSpan.FromSeconds(5));
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
                else images = units.ToDictionary(u => u.UnitName, u => (u.Image, $"{source} (memory, step {step})"), StringComparer.Ordinal);
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

    /// <summary>
    /// Work of this epoch on the device. A hung device must not hold the stage: a new epoch (<see cref="CancelEpochCalls"/>)
    /// stops waiting for it, so the activation goes idle and can move to a healthy node's silo. The work itself stays in
    /// the device's queue (it cannot be taken back from a native call); its result, if it ever comes, is of a dropped epoch.
    /// </summary>
    private Task<Timed<T>> OnDevice<T>(DeviceWorker worker, Func<T> work) => worker.Run(work).WaitAsync(_epochCalls.Token);

    private Task DropExecutor()
    {
        var executor = _executor;
        var worker = _worker;
        _executor = null;
        _worker = null;
        _sampler = null;
        if (executor is not null && worker is not null)
        {
            worker.StageDetached();
            string stage = this.GetPrimaryKeyString();
            // Freed in the device's queue order (after the work already queued, before anything queued next) without
            // waiting: a hung device would otherwise keep the stage from moving off it.
            _ = worker.Run(executor.Dispose).ContinueWith(t => LogDisposeFailed(logger, t.Exception!, stage),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(3, LogLevel.Warning, "Stage {Stage}: freeing a dropped executor on its device failed")]
    private static partial void LogDisposeFailed(ILogger logger, Exception exception, string stage);

    [LoggerMessage(2, LogLevel.Information, "Stage {Stage}: {Message}")]
    private static partial void LogHolderMoving(ILogger logger, string stage, string message);

    [LoggerMessage(1, LogLevel.Information, "Stage {Stage} configured for epoch {Epoch} on node {NodeId} ({Plan}), at step {Step}")]
    private static partial void LogConfigured(ILogger logger, string stage, long epoch, string nodeId, string plan, long step);
}
