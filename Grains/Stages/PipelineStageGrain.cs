using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Jobs;
using Cluster.Grains.Placement;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
    MigrationParcels parcels,
    IClusterMembershipService membership,
    IOptions<TrainingClusterOptions> options,
    TimeProvider time,
    ILogger<PipelineStageGrain> logger) : Grain, IPipelineStageGrain
{
    private (SnapshotRecord[] Records, MigratedSnapshots Parcel)? _arriving; // copies left on the silo this stage migrated from (OnActivateAsync takes them)
    private long _epoch = -1;
    private long _configuringEpoch = -1; // the newest epoch a Configure was started for (see Configure)
    private int _configureCalls; // Configure calls started: the last one wins
    private StageAssignment? _assignment;
    private StageExecutor? _executor;
    private DeviceWorker? _worker;
    private NodeOccupant? _occupant; // what this stage reported to its worker while attached
    private BatchSampler? _sampler;
    private IPipelineStageGrain? _next;
    private IPipelineStageGrain? _previous; // the stage before this one in its replica: its micro-batches' gradients go back there
    // Segments of tensors sent to this stage ahead of their headers (see AcceptTensorSegment), this epoch's current step only.
    private readonly Dictionary<(long Epoch, long Step, int MicroBatch, bool Gradient, int Index), byte[]> _incomingSegments = [];
    private float _lossScale;
    private CancellationTokenSource _epochCalls = new(); // cancels this epoch's calls still waiting downstream
    // The two newest snapshots (a failure mid-snapshot leaves stages one step apart); survive re-configuration, not the silo.
    private readonly List<(SnapshotRecord Record, IReadOnlyList<UnitStateImage> Units)> _ownSnapshots = [];
    private Task? _snapshotInFlight; // the background half of the newest BeginSnapshot: encode, keep, send
    private long _snapshotInFlightStep = -1;
    private long _snapshotInFlightEpoch = -1;
    private Task? _snapshotEncoded; // the encoding of the newest snapshot: the only reader of its executor's kept snapshot buffers
    private readonly SemaphoreSlim _snapshotGate = new(1, 1); // one snapshot copied and handed over at a time
    private double _stepComputeMs;
    private int _rank;
    private int[] _replicaIds = [];
    private int _firstMicroBatch; // global index of this replica's first micro-batch in each step
    private int _microBatches; // this replica's micro-batches per step
    private StepReduction? _reduction;

    /// <summary>
    /// Becomes what <paramref name="assignment"/> says. Invariant (the newest configuration wins): of Configure calls
    /// that overlap — one whose caller timed out while it restored, and the job's next attempt — only the last one
    /// started takes effect, and it is never of an older epoch than one started before it. An earlier one finds that out
    /// after its awaits, frees the executor it built and fails as stale, so no executor is left behind on the device and
    /// the stage's epoch never goes back.
    /// </summary>
    public async Task Configure(StageAssignment assignment)
    {
        long newest = Math.Max(_epoch, _configuringEpoch);
        if (assignment.Epoch < newest)
            throw new StaleEpochException(this.GetPrimaryKeyString(), assignment.Epoch, newest);
        var worker = workers.Find(assignment.NodeId);
        if (worker is null)
        {
            // Placed for another node before: migrate to the new node's silo (the placement director reads the node from
            // this call's request context). Plain deactivation would not do: callers' cached address of this silo
            // would re-create the stage here. Calls of the old epoch still waiting downstream are cut loose first. From
            // here until it has left its copies here (OnDehydrate), it counts as departing: a graceful shutdown waits.
            // The move itself never drops the stage's copies (ElsewhereMigration: it migrates only once its placement
            // chose the node's silo). Checked first as well: while the node's silo is not active in this silo's view —
            // the placement reads the same view, so it could not choose it (KillDuringLeaveProcessTests, seed 203: a
            // move told after its target was declared dead) — the stage keeps its executor and epoch calls too, not only
            // its copies, and the job asks again: a silo that joined a moment ago is in the view by then, and one that
            // died has its node reported lost, so the job recovers and asks this stage for its copies.
            if (NodeIds.SiloOf(assignment.NodeId) is { } nodeSilo && !NodeSilos.IsActive(membership, nodeSilo))
                throw new StageMisplacedException($"Stage {this.GetPrimaryKeyString()} stays on silo '{workers.SiloName}': node '{assignment.NodeId}' is on silo '{nodeSilo}', which is not active here (active: {NodeSilos.ActiveNames(membership)}); retry once it is.");
            parcels.Departing(GrainContext.GrainId.ToString());
            CancelEpochCalls();
            await DropExecutor();
            // Migrated only when its placement chose the node's silo; else it stays with its copies (ElsewhereMigration).
            if (!await this.MigrateElsewhereOnIdle(parcels))
                throw new StageMisplacedException($"Stage {this.GetPrimaryKeyString()} stays on silo '{workers.SiloName}' with its copies: no placement could send it to node '{assignment.NodeId}' (active: {NodeSilos.ActiveNames(membership)}); retry.");
            throw new StageMisplacedException($"Stage {this.GetPrimaryKeyString()} is on silo '{workers.SiloName}', but node '{assignment.NodeId}' is elsewhere; retry to activate it there.");
        }
        _configuringEpoch = assignment.Epoch; // counted from here: a call that only sends the stage elsewhere configures nothing
        int call = ++_configureCalls;
        CancelEpochCalls();
        await DropExecutor();
        worker.BeginWarmup(); // building and restoring the executor, and its first steps, may be slow: not a hang

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
            ThrowIfSuperseded(call, assignment.Epoch);
        }
        catch (CheckpointCorruptException e)
        {
            await DisposeQuietly(worker, executor);
            throw new CheckpointUnusableException(e.Source, e.Message); // a type every silo and client can deserialise
        }
        catch
        {
            await DisposeQuietly(worker, executor);
            throw;
        }

        // Copies after the restored step belong to a timeline the job left (a rewind or a lost step); earlier ones are shared.
        _ownSnapshots.RemoveAll(o => o.Record.Step > executor.CompletedSteps);
        _executor = executor;
        _worker = worker; // a new executor: the arrays it reuses from step to step are this configuration's alone (see StageExecutor)
        _occupant = new NodeOccupant(spec.JobId, assignment.Epoch, assignment.Replica, assignment.Stage);
        _worker.StageAttached(this.GetPrimaryKeyString(), _occupant);
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
        _previous = executor.IsFirst ? null : GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, assignment.Replica, assignment.Stage - 1));
        _incomingSegments.Clear();
        if (_rank == 0 && spec.SnapshotInterval > 0)
        {
            await SeedSnapshotHolders(executor, worker); // other ranks snapshot nothing: rank 0's copies are theirs (ReplicaStages.Snapshotting)
            ThrowIfSuperseded(call, assignment.Epoch); // a newer call (or a release) dropped this executor while it seeded
        }
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
            : Joined(epoch, step, globalMicroBatch, gradient: false,
                input ?? throw new ArgumentNullException(nameof(input), $"Stage {executor.Stage} needs the activations of stage {executor.Stage - 1}."));
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
            BackwardDone(epoch, step, executor, worker);
            var lastGradient = await Segmented(_previous, epoch, step, globalMicroBatch, gradient: true, done.Value.Gradient);
            return new MicroBatchResult(done.Value.Loss, lastGradient, done.Ran.TotalMilliseconds, done.Queued.TotalMilliseconds);
        }

        var forward = await Compute(worker, step, microBatch, Telemetry.TrainingActivities.ForwardName, () => executor.Forward(microBatch, activations));
        var output = await Segmented(_next, epoch, step, globalMicroBatch, gradient: false, forward.Value);
        var downstream = await _next!.RunMicroBatch(epoch, step, globalMicroBatch, output).WaitAsync(_epochCalls.Token);
        Fenced(epoch, step);
        var outputGradient = downstream.InputGradient is { } returned ? Joined(epoch, step, globalMicroBatch, gradient: true, returned) : null;
        var backward = await Compute(worker, step, microBatch, Telemetry.TrainingActivities.BackwardName, () => executor.Backward(microBatch, outputGradient, _lossScale));
        double compute = forward.Ran.TotalMilliseconds + backward.Ran.TotalMilliseconds;
        _stepComputeMs += compute;
        BackwardDone(epoch, step, executor, worker);
        var inputGradient = await Segmented(_previous, epoch, step, globalMicroBatch, gradient: true, backward.Value);
        return new MicroBatchResult(downstream.Loss, inputGradient,
            downstream.ComputeMs + compute, downstream.QueueMs + forward.Queued.TotalMilliseconds + backward.Queued.TotalMilliseconds);
    }

    public Task AcceptTensorSegment(long epoch, long step, int microBatch, bool gradient, int index, Immutable<byte[]> data)
    {
        Fenced(epoch, step);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        // Segments of a step this stage has left (a transfer cut short by a failure) are let go.
        foreach (var key in _incomingSegments.Keys.Where(k => k.Epoch != epoch || k.Step != step).ToArray())
            _incomingSegments.Remove(key);
        _incomingSegments[(epoch, step, microBatch, gradient, index)] = data.Value;
        return Task.CompletedTask;
    }

    /// <summary>
    /// <paramref name="tensor"/> for <paramref name="to"/>: as it is when it fits in one segment of
    /// <see cref="TrainingClusterOptions.TensorSegmentBytes"/>; else every segment after the first is sent ahead by a
    /// call of its own, and the header (the first segment and the count of the rest) is returned to go in the message.
    /// Invariant: no call between stages carries more than one segment of tensor data, so no message nears Orleans'
    /// message size limit however large the activations.
    /// </summary>
    private async Task<TensorPayload?> Segmented(IPipelineStageGrain? to, long epoch, long step, int microBatch, bool gradient, WireTensor? tensor)
    {
        if (tensor is null || to is null) return tensor?.ToPayload();
        if (tensor.ByteLength <= options.Value.TensorSegmentBytes) return tensor.ToPayload();
        var segments = TensorSegments.Cut(tensor, options.Value.TensorSegmentBytes);
        for (int i = 1; i < segments.Length; i++)
            await to.AcceptTensorSegment(epoch, step, microBatch, gradient, i, new Immutable<byte[]>(segments[i])).WaitAsync(_epochCalls.Token);
        return new TensorPayload((byte)tensor.DType, tensor.Shape, segments[0]) { SeparateSegments = segments.Length - 1 };
    }

    /// <summary>The tensor a payload sent to this stage stands for: itself, or its header joined with the segments sent ahead of it.</summary>
    private WireTensor Joined(long epoch, long step, int microBatch, bool gradient, TensorPayload payload)
    {
        if (payload.SeparateSegments == 0) return payload.ToWire();
        var segments = new byte[payload.SeparateSegments + 1][];
        segments[0] = payload.Data;
        for (int i = 1; i < segments.Length; i++)
            if (!_incomingSegments.Remove((epoch, step, microBatch, gradient, i), out segments[i]!))
                throw new InvalidOperationException(
                    $"Stage {this.GetPrimaryKeyString()}: segment {i} of {payload.SeparateSegments} of micro-batch {microBatch}'s {(gradient ? "gradient" : "activations")} of step {step + 1} never arrived.");
        return TensorSegments.Join(Payloads.DTypeOf(payload), payload.Shape, segments);
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
        catch (Exception e) when (e is not (ObjectDisposedException or OperationCanceledException))
        {
            // Work of an epoch that has since been abandoned fails by design (its executor was dropped, or the wait for
            // it was cancelled with the epoch): that says nothing about the device, so only failures of the live epoch
            // count against the node. The device's own errors the worker has counted already, whoever ran the operation.
            if (ReferenceEquals(_worker, worker) && _executor is not null && _executor.CompletedSteps == step && !DeviceWorker.IsDeviceError(e))
                worker.RecordError($"{this.GetPrimaryKeyString()} step {step} micro-batch {microBatch}: {e.Message}");
            throw;
        }
    }

    public async Task<double[]> GradientSquares(long epoch, long step)
    {
        var (executor, worker) = Fenced(epoch, step);
        if (_replicaIds.Length > 1)
            await StartAllReduce(Reduction(epoch, step), executor, worker); // started already, as a rule: see BackwardDone
        var result = await OnDevice(worker, executor.GradientSquares);
        _stepComputeMs += result.Ran.TotalMilliseconds;
        return result.Value;
    }

    public async Task<double> ApplyUpdate(long epoch, long step, double clipCoefficient)
    {
        var (executor, worker) = Fenced(epoch, step);
        var result = await OnDevice(worker, () => { executor.ApplyUpdate(clipCoefficient); return true; });
        _reduction = null;
        if (_rank != 0 && _ownSnapshots.Count > 0)
        {
            // Copies kept from when this stage was rank 0 (or from before the job snapshotted rank 0 only) are not
            // renewed: drop them. Not before this epoch's first update: until every replica has been configured, a
            // peer restoring may still read them (PipelineStageGrain.RestoreFromMemory); by now rank 0 keeps the
            // state and has handed it to its holders (SeedSnapshotHolders, before the job runs a step).
            _ownSnapshots.Clear();
        }
        double stepMs = _stepComputeMs + result.Ran.TotalMilliseconds;
        worker.RecordStep(stepMs);
        _stepComputeMs = 0;
        return stepMs;
    }

    public Task Release(long epoch) => Release(epoch, keepCopies: false);

    public Task ReleaseDevice(long epoch) => Release(epoch, keepCopies: true);

    /// <summary>
    /// Set by <see cref="ReleaseDevice"/>: the activation stays, without a stage, so that a restore can read its own
    /// copies, until the job's <see cref="Release"/> — a late call of its old epoch does not send it away (see <see cref="Fenced"/>).
    /// </summary>
    private bool _keptForRestore;

    private async Task Release(long epoch, bool keepCopies)
    {
        if (epoch < _epoch)
        {
            if (_executor is null) DeactivateOnIdle();
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        }
        _configuringEpoch = Math.Max(_configuringEpoch, epoch); // a Configure still under way gives up (see Configure)
        _configureCalls++;
        CancelEpochCalls();
        await SettleSendsAtRelease();
        await DropExecutor();
        _keptForRestore = keepCopies;
        if (!keepCopies) DeactivateOnIdle();
    }

    private void CancelEpochCalls()
    {
        _epochCalls.Cancel();
        _epochCalls.Dispose();
        _epochCalls = new CancellationTokenSource();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await DropExecutor();
        parcels.Deactivating(GrainContext.GrainId.ToString(), reason);
    }

    private (StageExecutor Executor, DeviceWorker Worker) Fenced(long epoch, long step)
    {
        if (_executor is null || _worker is null)
        {
            // An activation without a stage (released, or revived by a late message while it was leaving) serves no
            // one: leave at once instead of lingering until idle collection — unless it keeps its copies for a restore.
            if (!_keptForRestore) DeactivateOnIdle();
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        }
        if (epoch != _epoch)
            throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _epoch);
        if (step != _executor.CompletedSteps)
            throw new InvalidOperationException($"Stage {this.GetPrimaryKeyString()} has completed {_executor.CompletedSteps} steps; a call for step {step} is out of order.");
        return (_executor, _worker);
    }

    /// <summary>
    /// Work of this epoch on the device. A hung device must not hold the stage: a new epoch (<see cref="CancelEpochCalls"/>)
    /// stops waiting for it, so the activation goes idle and can move to a healthy node's silo. The work itself stays in
    /// the device's queue (it cannot be taken back from a native call); its result, if it ever comes, is of a dropped epoch.
    /// </summary>
    private Task<Timed<T>> OnDevice<T>(DeviceWorker worker, Func<T> work) => worker.Run(work).WaitAsync(_epochCalls.Token);

    /// <summary>A later Configure (or a release) started while this one awaited: this one gives up (see <see cref="Configure"/>).</summary>
    private void ThrowIfSuperseded(int call, long epoch)
    {
        if (call == _configureCalls) return;
        if (_configuringEpoch > epoch) throw new StaleEpochException(this.GetPrimaryKeyString(), epoch, _configuringEpoch);
        throw new InvalidOperationException($"Stage {this.GetPrimaryKeyString()}: this configuration of epoch {epoch} was superseded by a later call of the same epoch (a configuration or a release).");
    }

    private Task DropExecutor()
    {
        var executor = _executor;
        var worker = _worker;
        _executor = null;
        _worker = null;
        _sampler = null;
        if (executor is not null && worker is not null)
        {
            string stage = this.GetPrimaryKeyString();
            if (_occupant is { } occupant) worker.StageDetached(stage, occupant);
            _occupant = null;
            // Freed in the device's queue order (after the work already queued, before anything queued next) without
            // waiting: a hung device would otherwise keep the stage from moving off it.
            _ = worker.Run(executor.Dispose).ContinueWith(t => LogDisposeFailed(logger, t.Exception!, stage),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        return Task.CompletedTask;
    }

    /// <summary>Frees an executor that will not be used; a failure to (a failing device) is logged, never thrown over the error that got here.</summary>
    private async Task DisposeQuietly(DeviceWorker worker, StageExecutor executor)
    {
        try
        {
            await worker.Run(executor.Dispose);
        }
        catch (Exception e)
        {
            LogDisposeFailed(logger, e, this.GetPrimaryKeyString());
        }
    }
}
