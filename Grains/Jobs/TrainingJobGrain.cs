using System.Diagnostics;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Cluster.Grains.Scheduling;
using Cluster.Grains.Stages;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Streams;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Drives one training job: validate → place (through the scheduler) → configure stages → train step by step →
/// checkpoint (snapshots off the training path, manifest committed once every shard is durable) → complete. The loss
/// of a step is the canonical mean of its micro-batch losses; the clip coefficient comes from per-parameter squared
/// norms summed in global order — so the trajectory is bit-identical to the reference trainer. The state it needs to
/// carry on lives in grain storage that outlives any silo.
/// </summary>
[Reentrant]
internal sealed partial class TrainingJobGrain(
    ICheckpointStore store,
    TokenSourceCache corpora,
    ILocalSiloDetails silo,
    IOptions<TrainingClusterOptions> options,
    IOptions<JobCoordinatorOptions> coordinatorOptions,
    TimeProvider time,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain
{
    private const int TimingsKept = 200;
    private readonly JobCoordinatorOptions _options = coordinatorOptions.Value;
    private JobStateWriter _writer = null!;
    private CheckpointCoordinator _checkpoints = null!;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously); // requests wake waits early
    private readonly List<StepTiming> _timings = [];
    private Task? _loop;
    private bool _cancelRequested;
    private IGrainTimer? _keepAlive;
    private double _tokensPerSecond;
    private double _secondsPerStep;
    private TaskCompletionSource<string> _abort = NewAbort();
    private (DateTimeOffset At, long StepsBefore)? _recovery;

    // Operator requests, acted on at the next step boundary.
    private readonly Dictionary<string, string> _moveOff = new(StringComparer.Ordinal); // node → why
    private readonly List<TaskCompletionSource<CheckpointManifest>> _checkpointWaiters = [];
    private readonly List<TaskCompletionSource<JobStatus>> _pauseWaiters = [];
    private bool _pauseRequested;
    private string? _preemptedBecause;
    private TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (CheckpointManifest? Manifest, TaskCompletionSource<JobStatus> Done)? _rewind; // null manifest: the initial weights
    private long _lastSnapshotStep = -1;
    private string? _memorySnapshots; // what the last recovery found in memory, for its event // step of the newest in-memory snapshot every stage holds in this epoch
    private StragglerDetector? _stragglers;
    private DateTimeOffset _lastGrowthCheck;
    private (int Replicas, string Reason)? _shrinkTo; // the scheduler's request, acted on at the next step boundary
    private double[] _stageCosts = []; // planned cost per stage of every replica (rank by rank), for the straggler detector

    private JobGrainState S => _writer.State;

    private IJobRegistryGrain Registry => GrainFactory.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var problems = _options.Validate();
        if (problems.Count > 0)
            throw new InvalidOperationException($"{nameof(JobCoordinatorOptions)} are invalid: {string.Join(" ", problems)}");
        string jobId = this.GetPrimaryKeyString();
        _writer = new JobStateWriter(ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Jobs), this.GetGrainId(), time, _options, logger);
        await _writer.ReadAsync();
        _checkpoints = new CheckpointCoordinator(jobId, store, GrainFactory, time, _options, logger);
        if (S.Spec is not null && !IsTerminal(S.State))
        {
            // The silo that ran this job went away: carry on from persisted state, narrated like any other recovery
            // (its timings counted from the last saved update, the closest this activation knows to the failure).
            if (S.Epoch > 0 && S.State is not JobState.Paused)
                _recovery = (S.UpdatedAt, S.CompletedSteps);
            StartLoop();
        }
    }

    /// <summary>
    /// Supervision (called by every silo's watchdog): a loop that stopped without reaching a terminal state is started
    /// again. Invariant: an unfinished job of a non-fenced activation always has a running loop.
    /// </summary>
    public Task<bool> EnsureRunning()
    {
        if (S.Spec is null || IsTerminal(S.State) || _writer.Fenced is not null || _loop is { IsCompleted: false })
            return Task.FromResult(false);
        StartLoop();
        return Task.FromResult(true);
    }

    public async Task<JobStatus> Submit(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string jobId = this.GetPrimaryKeyString();
        if (S.Spec is not null)
        {
            if (S.Spec == spec || (S.Spec with { LayersPerStage = null } == spec with { LayersPerStage = null } && (S.Spec.LayersPerStage ?? []).SequenceEqual(spec.LayersPerStage ?? [])))
                return Status(); // the same submission again (a retry): idempotent
            throw new JobSpecInvalidException([$"jobId: job '{jobId}' already exists ({S.State}); choose another id."]);
        }
        var problems = JobSpecs.Validate(spec, jobId, DataSourceExists);
        if (problems.Count > 0)
            throw new JobSpecInvalidException(problems);

        S.Spec = spec;
        S.State = JobState.Pending;
        S.SubmittedAt = time.GetUtcNow();
        await _writer.Flush();
        await Registry.Add(jobId);
        LogSubmitted(logger, jobId, spec.Steps, spec.Stages);
        StartLoop();
        return Status();
    }

    public Task<JobStatus> GetStatus() => Task.FromResult(Status());

    public Task<JobSpec?> GetSpec() => Task.FromResult(S.Spec);

    public Task<IReadOnlyList<double>> GetLossHistory() => Task.FromResult<IReadOnlyList<double>>(_writer.Losses.ToArray());

    public Task<IReadOnlyList<StepTiming>> GetStepTimings() => Task.FromResult<IReadOnlyList<StepTiming>>(_timings.ToArray());

    public Task NodesLost(IReadOnlyList<string> nodeIds, string reason)
    {
        var mine = nodeIds.Where(n => S.Placement.Any(p => p.NodeId == n)).ToArray();
        if (mine.Length > 0 && S.State is JobState.Running or JobState.Checkpointing)
            _abort.TrySetResult($"node {string.Join(", ", mine)} lost: {reason}");
        return Task.CompletedTask;
    }

    public async Task<JobStatus> Cancel()
    {
        if (S.Spec is null || IsTerminal(S.State)) return Status();
        _cancelRequested = true;
        _resumed.TrySetResult(); // a paused job wakes to finish
        _wake.TrySetResult();
        StartLoop();
        if (_loop is not null)
            await _loop;
        return Status();
    }

    public async Task<IReadOnlyList<CheckpointManifest>> ListCheckpoints() =>
        await store.ListManifestsAsync(this.GetPrimaryKeyString());

    public async Task<JobStatus> Pause()
    {
        RequireSubmitted();
        if (IsTerminal(S.State) || S.State == JobState.Paused) return Status();
        var paused = new TaskCompletionSource<JobStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pauseWaiters.Add(paused);
        _pauseRequested = true;
        _wake.TrySetResult();
        StartLoop();
        return await paused.Task;
    }

    public Task<JobStatus> Resume()
    {
        RequireSubmitted();
        _pauseRequested = false;
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(Status());
        _pauseWaiters.Clear();
        if (S.State == JobState.Paused)
        {
            _resumed.TrySetResult();
            StartLoop();
        }
        return Task.FromResult(Status());
    }

    public async Task<CheckpointManifest> CheckpointNow()
    {
        RequireSubmitted();
        if (IsTerminal(S.State) || S.State == JobState.Paused)
        {
            var committed = await store.ListManifestsAsync(this.GetPrimaryKeyString());
            if (S.State == JobState.Paused && committed.Count > 0 && committed[^1].Step == S.CompletedSteps)
                return committed[^1]; // pausing committed one at the step it stopped
            throw new InvalidOperationException(
                $"Job {this.GetPrimaryKeyString()} is {S.State}: no checkpoint can be taken now. Its newest committed checkpoint is " +
                (committed.Count > 0 ? $"step {committed[^1].Step}." : "none."));
        }
        var done = new TaskCompletionSource<CheckpointManifest>(TaskCreationOptions.RunContinuationsAsynchronously);
        _checkpointWaiters.Add(done);
        return await done.Task;
    }

    public Task MoveStagesOff(IReadOnlyList<string> nodeIds, string reason)
    {
        foreach (string node in nodeIds.Where(n => S.Placement.Any(p => p.NodeId == n)))
            _moveOff[node] = reason;
        return Task.CompletedTask;
    }

    public async Task<JobStatus> RestoreCheckpoint(long step)
    {
        RequireSubmitted();
        string jobId = this.GetPrimaryKeyString();
        if (IsTerminal(S.State))
            throw new InvalidOperationException($"Job {jobId} is {S.State}; a finished job cannot be rewound. Submit a new job instead.");
        // Step 0: the initial weights — the explicit operator action that a job with lost checkpoints waits for.
        var committed = step == 0 ? [] : await store.ListManifestsAsync(jobId);
        var manifest = step == 0 ? null : committed.FirstOrDefault(m => m.Step == step)
            ?? throw new ArgumentException($"Job {jobId} has no committed checkpoint at step {step}. Committed: " +
                (committed.Count == 0 ? "none." : string.Join(", ", committed.Select(m => m.Step)) + "."), nameof(step));
        var done = new TaskCompletionSource<JobStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _rewind?.Done.TrySetException(new InvalidOperationException($"Superseded by a restore to step {step}."));
        _rewind = (manifest, done);
        _wake.TrySetResult();
        if (S.State == JobState.Paused)
            return Status(); // applied when the job resumes
        StartLoop();
        return await done.Task;
    }

    public Task Preempt(string reason)
    {
        if (S.Spec is not null && S.State is JobState.Running or JobState.Checkpointing or JobState.Placing or JobState.Recovering)
            _preemptedBecause = reason;
        return Task.CompletedTask;
    }

    public Task ShrinkReplicas(int replicas, string reason)
    {
        if (S.Spec is not null && S.State is JobState.Running or JobState.Checkpointing && replicas >= 1)
            _shrinkTo = (replicas, reason);
        return Task.CompletedTask;
    }

    private void RequireSubmitted()
    {
        if (S.Spec is null)
            throw new InvalidOperationException($"Job '{this.GetPrimaryKeyString()}' does not exist: submit it first (list jobs to see the ids that do).");
    }

    private void StartLoop()
    {
        if (_loop is { IsCompleted: false }) return;
        // Timers with KeepAlive stop the runtime from collecting the activation while its loop is running.
        _keepAlive ??= this.RegisterGrainTimer(_ => Task.CompletedTask, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromMinutes(1),
            Period = TimeSpan.FromMinutes(1),
            Interleave = true,
            KeepAlive = true,
        });
        _loop = Supervised();
    }

    /// <summary>Runs the loop; an exception that escapes it is logged and leaves the loop for the watchdog to restart.</summary>
    private async Task Supervised()
    {
        try
        {
            await RunLoop();
        }
        catch (JobFencedException e)
        {
            LogFenced(logger, this.GetPrimaryKeyString(), e.Message);
            this.DeactivateOnIdle(); // the newer activation owns the job; this one touches nothing more
        }
        catch (Exception e)
        {
            LogLoopDied(logger, e, this.GetPrimaryKeyString());
            S.Error = $"coordinator stopped ({ShortError.Of(e)}); restarting";
        }
    }

    /// <summary>
    /// The driver loop. Invariants: every exception from any await lands in a handler below (storage → waiting for
    /// storage, never a failure; lost nodes and messages → recovery with back-off; causes waiting cannot fix → Failed);
    /// storage errors inside the handlers cannot escape them (state writes go through <see cref="JobStateWriter"/>,
    /// which retries and never throws but when fenced); a fenced activation leaves the loop without another write.
    /// </summary>
    private async Task RunLoop()
    {
        var spec = S.Spec!;
        ReplicaStages stages = ReplicaStages.None;
        int failuresWithoutProgress = 0;
        int storageWaits = 0;
        PlacementRequest? request = null;
        if (_recovery is not null)
            await Narrate(ClusterEventKind.JobRecovering, S.CompletedSteps, 0, Since(), $"the job's coordinator was lost at step {S.CompletedSteps} (epoch {S.Epoch}); recovering");
        while (true)
        {
            try
            {
                if (S.State == JobState.Paused)
                {
                    request = await WaitWhilePaused();
                    if (_cancelRequested) break;
                }
                request ??= RewindRequest();
                stages = await PlaceAndConfigure(spec, request);
                request = null;
                storageWaits = 0;
                if (stages.Count == 0)
                {
                    if (_cancelRequested) break;
                    await EnterPaused(spec, ReplicaStages.None); // paused while waiting for capacity: nothing placed, nothing to save
                    continue;
                }
                var plan = JobSpecs.PlanOf(spec);
                while (S.CompletedSteps < spec.Steps)
                {
                    if (_cancelRequested) break;
                    if (_writer.Fenced is { } fenced) throw fenced;
                    request = await AtStepBoundary(spec, plan, stages);
                    if (request is not null || S.State == JobState.Paused) break;
                    if (S.CompletedSteps - _writer.DurableCheckpointStep >= _options.StepsWithoutDurableCheckpointFor(spec.CheckpointInterval))
                    {
                        await WaitForStorage(spec, stages, stateToo: true, visibleAfter: TimeSpan.Zero);
                        continue;
                    }
                    await TrainStep(spec, plan, stages);
                    failuresWithoutProgress = 0;
                    if (_recovery is { } recovered)
                    {
                        _recovery = null;
                        long lostSteps = Math.Max(0, recovered.StepsBefore - (S.CompletedSteps - 1));
                        await Narrate(ClusterEventKind.JobResumed, S.CompletedSteps, lostSteps, (time.GetUtcNow() - recovered.At).TotalSeconds,
                            $"first step after recovery done; {lostSteps} completed step(s) recomputed");
                    }
                    if (IsCheckpointDue(spec, S.CompletedSteps) || _checkpoints.RetryDue)
                    {
                        await Checkpoint(spec, stages);
                        if (spec.ScaleUp == "auto" && S.CompletedSteps < spec.Steps && (request = await ProposeScaleUp(spec, plan, stages)) is not null)
                            break;
                    }
                    else if (spec.SnapshotInterval > 0 && S.CompletedSteps % spec.SnapshotInterval == 0)
                    {
                        await SnapshotInMemory(stages);
                    }
                }
                if (request is not null || (S.State == JobState.Paused && !_cancelRequested)) continue;
                if (!_cancelRequested)
                    await WaitForStorage(spec, stages, stateToo: false, visibleAfter: TimeSpan.FromSeconds(5)); // the final checkpoint commits
                if (_cancelRequested || S.LastCheckpointStep == S.CompletedSteps) break;
            }
            catch (StorageUnavailableException e) when (!_cancelRequested)
            {
                // Storage is unreachable, or lists nothing loadable although steps were committed: waiting fixes it.
                request = null;
                await _checkpoints.Drain();
                await EnterWaitingForStorage(e.Message, e);
                await Backoff.Wait(time, Backoff.Delay(++storageWaits, _options.StorageRetryDelay, _options.StorageRetryMaxDelay), _wake.Task);
                _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            catch (Exception e) when (!_cancelRequested && e is not JobFencedException && IsRecoverable(e) && ++failuresWithoutProgress <= _options.MaxRecoveriesWithoutProgress)
            {
                // A node, a silo or a message was lost. Everything of this epoch is fenced off by the next one; the
                // job re-places (survivors stay), restores the newest state that loads and replays the same data.
                request = null;
                string cause = ShortError.Of(e);
                LogRecovering(logger, e, this.GetPrimaryKeyString(), S.CompletedSteps, failuresWithoutProgress);
                _recovery ??= (time.GetUtcNow(), S.CompletedSteps);
                TrainingMetrics.Recovering(this.GetPrimaryKeyString());
                await Narrate(ClusterEventKind.JobRecovering, S.CompletedSteps, 0, Since(), $"failure at step {S.CompletedSteps}: {cause}; recovering");
                S.State = JobState.Recovering;
                S.Error = $"recovering from: {cause}";
                _writer.Request(); // never throws: the epoch bump of the next placement is what must be durable
                await Publish($"failure at step {S.CompletedSteps}: {cause}; recovering");
                await ApplyCommitted(await _checkpoints.Drain());
                await Backoff.Wait(time, Backoff.Delay(failuresWithoutProgress, _options.RecoveryDelay, _options.RecoveryMaxDelay), _wake.Task);
            }
            catch (Exception e) when (e is not JobFencedException)
            {
                LogFailed(logger, e, this.GetPrimaryKeyString(), S.CompletedSteps);
                await _checkpoints.Drain();
                string why = IsRecoverable(e) && !_cancelRequested
                    ? $"{_options.MaxRecoveriesWithoutProgress} failures without progress, the last: {ShortError.Of(e)}"
                    : ShortError.Of(e);
                await Finish(JobState.Failed, $"failed: {why}", stages);
                return;
            }
        }
        await Finish(_cancelRequested ? JobState.Cancelled : JobState.Completed, null, stages);
    }

    /// <summary>Causes that waiting cannot fix: a spec that is invalid or cannot fit the cluster, data that cannot be read.</summary>
    private static bool IsRecoverable(Exception e) =>
        e is not (JobUnplaceableException or JobSpecInvalidException or InvalidDataException);

    /// <summary>An operator's rewind waiting to be applied (also while the job waited for storage).</summary>
    private PlacementRequest? RewindRequest() => _rewind is { } rewind
        ? new PlacementRequest(null, null, rewind.Manifest, RewindReason(rewind.Manifest, "rewound by an operator"), ClusterEventKind.JobRewound) { InitialWeights = rewind.Manifest is null }
        : null;

    private static string RewindReason(CheckpointManifest? manifest, string who) =>
        manifest is null ? $"{who} to the initial weights" : $"{who} to the checkpoint at step {manifest.Step}";

    /// <summary>
    /// Operator requests, between two steps (every stage has applied the same number of updates): a rewind, a
    /// checkpoint, a pause, moving stages off drained or straggling nodes. Returns how to place again, or null to go on.
    /// </summary>
    private async Task<PlacementRequest?> AtStepBoundary(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        await ApplyCommitted(_checkpoints.Collect());
        if (RewindRequest() is { } rewinding)
        {
            await ApplyCommitted(await _checkpoints.Drain());
            return rewinding;
        }
        // A checkpoint an operator action needs is retried only once the store's back-off has passed.
        bool storeReady = _checkpoints.Problem is null || _checkpoints.RetryDue;
        if (_checkpointWaiters.Count > 0)
        {
            var waiters = _checkpointWaiters.ToArray();
            _checkpointWaiters.Clear();
            try
            {
                var manifest = await CheckpointAndCommit(spec, stages);
                foreach (var waiter in waiters) waiter.TrySetResult(manifest);
                await Narrate(ClusterEventKind.CheckpointCreated, S.CompletedSteps, 0, null, $"checkpoint at step {manifest.Step} committed on request");
            }
            catch (Exception e)
            {
                foreach (var waiter in waiters) waiter.TrySetException(new InvalidOperationException($"The checkpoint at step {S.CompletedSteps} failed: {ShortError.Of(e)}", e));
                if (e is not StorageUnavailableException) throw; // a storage outage only defers it: training goes on
            }
        }
        if (_pauseRequested && storeReady)
        {
            // Pausing frees the nodes, so it needs a committed checkpoint; while storage is out the request waits.
            if (await CheckpointOrDefer(spec, stages, "pausing") is null) return null;
            await EnterPaused(spec, stages);
            return null;
        }
        if (_preemptedBecause is { } preempted && storeReady)
        {
            // Give the nodes back with nothing to lose: commit this step, free the nodes, then wait for capacity
            // like any queued job; placing again restores this checkpoint. While storage is out the request waits.
            if (await CheckpointOrDefer(spec, stages, "preemption") is not { } manifest) return null;
            _preemptedBecause = null;
            await ReleaseStages(stages);
            await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Release(spec.JobId);
            S.Placement = [];
            LogPreempted(logger, spec.JobId, S.CompletedSteps, preempted);
            await Narrate(ClusterEventKind.JobPreempted, S.CompletedSteps, 0, null,
                $"{preempted}: checkpoint at step {manifest.Step} committed, nodes freed; it resumes when capacity returns");
            return new PlacementRequest(null, null, null, $"resumed after being {preempted}", ClusterEventKind.JobUnpaused);
        }
        if (_shrinkTo is { } shrink)
        {
            _shrinkTo = null;
            if (await PlanShrink(spec, plan, stages, shrink.Replicas, shrink.Reason) is { } shrinking)
                return shrinking;
        }
        if (_moveOff.Count > 0)
        {
            var moveOff = _moveOff.ToDictionary(StringComparer.Ordinal);
            _moveOff.Clear();
            return await PlanMove(spec, plan, stages, moveOff);
        }
        return await ProposeMoreReplicas(spec, plan, stages);
    }

    /// <summary>
    /// Drain or straggler: asks for a placement that keeps every stage but those on <paramref name="moveOff"/> where it
    /// is; the moving stages restore from this step's in-memory snapshot, so no step is lost. With nowhere to go the
    /// job keeps its placement and says why.
    /// </summary>
    private async Task<PlacementRequest?> PlanMove(JobSpec spec, StagePlan plan, ReplicaStages stages, Dictionary<string, string> moveOff)
    {
        string jobId = spec.JobId;
        var current = ReplicaStages.NodesOf(S.Placement);
        if (!current.Any(r => r.Nodes.Any(moveOff.ContainsKey))) return null;
        string why = string.Join("; ", moveOff.Values.Distinct());
        // Moving may cost a replica (no spare node: the replica on the node shrinks away), never add one.
        IReadOnlyList<int> counts = [.. JobSpecs.ReplicaCounts(spec).Where(c => c <= current.Count)];
        var without = current.Select(r => r with { Nodes = [.. r.Nodes.Select(n => moveOff.ContainsKey(n) ? "" : n)] }).ToArray();
        var decision = await PlaceReplicasOrStay(spec, plan, counts, without, current, why);
        if (!decision.Placed)
        {
            await Narrate(ClusterEventKind.StagesMoved, S.CompletedSteps, 0, null, $"stages not moved ({why}): {decision.Reason}");
            return null;
        }
        await ApplyCommitted(await _checkpoints.Drain());
        return await FromLiveState(stages, decision.Replicas, why);
    }

    /// <summary>
    /// Asks for a new placement of the job's replicas; on a refusal the job is placed again where it is (the scheduler
    /// dropped its old placement when asked) and the refusal is logged.
    /// </summary>
    private async Task<ReplicaPlacement> PlaceReplicasOrStay(JobSpec spec, StagePlan plan, IReadOnlyList<int> counts, IReadOnlyList<ReplicaNodes> wanted,
        IReadOnlyList<ReplicaNodes> current, string why)
    {
        var demands = JobSpecs.Demands(spec, plan);
        var scheduler = GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var decision = await scheduler.PlaceReplicas(spec.JobId, new ReplicaRequest(demands, counts, wanted));
        if (!decision.Placed)
        {
            await scheduler.PlaceReplicas(spec.JobId, new ReplicaRequest(demands, [current.Count], current));
            LogMoveRefused(logger, spec.JobId, why, decision.Reason);
        }
        return decision;
    }

    /// <summary>Snapshots this step in memory and asks to place the replicas there, each stage restoring that snapshot: nothing is recomputed.</summary>
    private async Task<PlacementRequest> FromLiveState(ReplicaStages stages, IReadOnlyList<ReplicaNodes> replicas, string why)
    {
        await SnapshotInMemory(stages);
        return new PlacementRequest(replicas, S.CompletedSteps, null, why, ClusterEventKind.StagesMoved) { Counts = [replicas.Count] };
    }


    /// <summary>Gives replicas back to the scheduler (down to <paramref name="target"/>, never below the minimum) from live state.</summary>
    private async Task<PlacementRequest?> PlanShrink(JobSpec spec, StagePlan plan, ReplicaStages stages, int target, string why)
    {
        var current = ReplicaStages.NodesOf(S.Placement);
        IReadOnlyList<int> counts = [.. JobSpecs.ReplicaCounts(spec).Where(c => c <= Math.Max(target, spec.MinReplicas) && c < current.Count)];
        if (counts.Count == 0) return null;
        var decision = await PlaceReplicasOrStay(spec, plan, counts, current, current, why);
        if (!decision.Placed) return null;
        await ApplyCommitted(await _checkpoints.Drain());
        return await FromLiveState(stages, decision.Replicas, why);
    }

    /// <summary>Elastic scale-up at a checkpoint boundary: the scheduler proposes a faster placement (nodes joined) or none.</summary>
    private async Task<PlacementRequest?> ProposeScaleUp(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        var current = ReplicaStages.NodesOf(S.Placement);
        var layout = ReplicaLayout.For(JobSpecs.Demands(spec, plan), current.Count, current, _ => true);
        var proposal = await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).ProposeFasterPlacement(spec.JobId, layout.Demands);
        if (!proposal.Placed) return null;
        await ApplyCommitted(await _checkpoints.Drain()); // a failed commit defers durability, never the move
        return await FromLiveState(stages, layout.Split(proposal.NodeByStage), "scale-up: faster placement with nodes that joined");
    }

    /// <summary>
    /// Elastic growth at a step boundary: a job running fewer replicas than its maximum asks, now and then, for free
    /// nodes; new replicas load this step's in-memory snapshot, so nothing is recomputed.
    /// </summary>
    private async Task<PlacementRequest?> ProposeMoreReplicas(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        var counts = JobSpecs.ReplicaCounts(spec);
        if (stages.Count >= counts[^1] || time.GetUtcNow() - _lastGrowthCheck < options.Value.ReplicaGrowthInterval) return null;
        _lastGrowthCheck = time.GetUtcNow();
        var current = ReplicaStages.NodesOf(S.Placement);
        var proposal = await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default)
            .ProposeMoreReplicas(spec.JobId, new ReplicaRequest(JobSpecs.Demands(spec, plan), counts, current));
        if (!proposal.Placed) return null;
        await ApplyCommitted(await _checkpoints.Drain()); // a failed commit defers durability, never the move
        return await FromLiveState(stages, proposal.Replicas, $"growing onto free nodes: {current.Count} → {proposal.Replicas.Count} replicas");
    }

    private async Task SnapshotInMemory(ReplicaStages stages)
    {
        if (_lastSnapshotStep == S.CompletedSteps) return;
        long epoch = S.Epoch, step = S.CompletedSteps;
        await Guard(Task.WhenAll(stages.All.Select(s => s.Snapshot(epoch, step, durable: false))));
        _lastSnapshotStep = step;
    }

    /// <summary>
    /// Commits a checkpoint of the current step (unless one is already committed) and returns its manifest;
    /// <see cref="StorageUnavailableException"/> when the store cannot take it now.
    /// </summary>
    private async Task<CheckpointManifest> CheckpointAndCommit(JobSpec spec, ReplicaStages stages)
    {
        if (_checkpoints.PendingStep != S.CompletedSteps)
        {
            await ApplyCommitted(await _checkpoints.Drain());
            if (S.LastCheckpointStep != S.CompletedSteps)
                await Checkpoint(spec, stages);
        }
        if (await _checkpoints.Wait() is { } manifest)
        {
            await ApplyCommitted(manifest);
            if (manifest.Step == S.CompletedSteps) return manifest;
        }
        IReadOnlyList<CheckpointManifest> committed;
        try
        {
            committed = await store.ListManifestsAsync(spec.JobId);
        }
        catch (Exception e)
        {
            throw new StorageUnavailableException($"the checkpoint store ({store.Description}) cannot be listed: {ShortError.Of(e)}", e);
        }
        return committed.LastOrDefault(m => m.Step == S.CompletedSteps)
            ?? throw new InvalidOperationException($"The checkpoint of step {S.CompletedSteps} of job {spec.JobId} is not among the committed ones.");
    }

    /// <summary><see cref="CheckpointAndCommit"/>, or null (logged) when storage is out: the action that needed it waits.</summary>
    private async Task<CheckpointManifest?> CheckpointOrDefer(JobSpec spec, ReplicaStages stages, string what)
    {
        try
        {
            return await CheckpointAndCommit(spec, stages);
        }
        catch (StorageUnavailableException e)
        {
            LogDeferred(logger, spec.JobId, what, e.Message);
            return null;
        }
    }

    /// <summary>Frees the job's nodes and waits in <see cref="JobState.Paused"/>; its last checkpoint is the resume point.</summary>
    private async Task EnterPaused(JobSpec spec, ReplicaStages stages)
    {
        _pauseRequested = false;
        await ReleaseStages(stages);
        await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Release(spec.JobId);
        _resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        S.State = JobState.Paused;
        S.Error = null;
        await _writer.Flush();
        LogPaused(logger, spec.JobId, S.CompletedSteps);
        await Publish($"paused at step {S.CompletedSteps}");
        await Narrate(ClusterEventKind.JobPaused, S.CompletedSteps, 0, null,
            $"paused at step {S.CompletedSteps} (checkpoint at step {S.LastCheckpointStep?.ToString() ?? "none"}); nodes freed");
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(Status());
        _pauseWaiters.Clear();
    }

    private async Task<PlacementRequest?> WaitWhilePaused()
    {
        await _resumed.Task;
        if (_cancelRequested) return null;
        if (_rewind is { } rewind)
            return new PlacementRequest(null, null, rewind.Manifest, RewindReason(rewind.Manifest, "resumed by an operator, rewound"), ClusterEventKind.JobRewound) { InitialWeights = rewind.Manifest is null };
        return new PlacementRequest(null, null, null, "resumed by an operator", ClusterEventKind.JobUnpaused);
    }

    /// <summary>
    /// Why the job places again without a failure, and from what: preferred nodes per stage (a move), the step of the
    /// in-memory snapshots to restore (live state), or a committed checkpoint (rewind). All null: the usual choice.
    /// </summary>
    private sealed record PlacementRequest(IReadOnlyList<ReplicaNodes>? Preferred, long? MemoryStep, CheckpointManifest? Manifest, string Why, ClusterEventKind Kind)
    {
        /// <summary>The replica counts to accept (null: every count the spec allows).</summary>
        public IReadOnlyList<int>? Counts { get; init; }

        /// <summary>An operator asked to start again from the initial weights (restore step 0).</summary>
        public bool InitialWeights { get; init; }
    }

    private async Task<ReplicaStages> PlaceAndConfigure(JobSpec spec, PlacementRequest? request)
    {
        string jobId = this.GetPrimaryKeyString();
        bool recovering = S.Epoch > 0 && request is null; // a failure (else a first placement or an operator's request)
        var started = time.GetUtcNow();
        S.State = recovering ? JobState.Recovering : JobState.Placing;
        S.Epoch++;
        _lastSnapshotStep = -1; // stages restored from memory hand their copy to the executor
        _stragglers = new StragglerDetector(options.Value.StragglerFactor, options.Value.StragglerSteps);
        await _writer.Flush(); // the epoch fences every call of this placement: durable before any stage sees it
        await Publish(request is not null ? $"epoch {S.Epoch}: placing again ({request.Why})" : recovering ? $"epoch {S.Epoch}: re-placing" : "placing");

        var plan = JobSpecs.PlanOf(spec);
        var demands = JobSpecs.Demands(spec, plan);
        var previous = ReplicaStages.NodesOf(S.Placement).Where(r => r.Nodes.Count == plan.StageCount).ToArray();
        var previousNode = previous.SelectMany(r => r.Nodes.Select((node, s) => (Key: (r.Replica, s), node))).ToDictionary(x => x.Key, x => x.node);
        var replicaRequest = new ReplicaRequest(demands, request?.Counts ?? JobSpecs.ReplicaCounts(spec), request?.Preferred ?? previous);
        var scheduler = GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await scheduler.Enqueue(new JobTicket(jobId, spec.Priority, spec.Team, S.SubmittedAt ?? started));
        ReplicaPlacement decision;
        while (!(decision = await scheduler.PlaceReplicas(jobId, replicaRequest)).Placed)
        {
            // A model that cannot fit a healthy cluster is the user's to fix; lost capacity comes back by itself.
            if (!recovering && decision.Reason?.Contains("cannot fit", StringComparison.Ordinal) == true)
                throw new JobUnplaceableException($"Job {jobId} cannot be placed: {decision.Reason}");
            if (S.State != JobState.WaitingForCapacity)
            {
                S.State = JobState.WaitingForCapacity;
                S.Error = decision.Reason;
                _writer.Request();
                await Publish($"waiting for capacity: {decision.Reason}");
                await Narrate(ClusterEventKind.WaitingForCapacity, S.CompletedSteps, 0, Since(), decision.Reason ?? "no capacity");
            }
            if (_cancelRequested || _pauseRequested) return ReplicaStages.None;
            await Backoff.Wait(time, _options.CapacityPollPeriod, _wake.Task);
        }

        int[] unitsPerStage = [.. plan.UnitsPerStage];
        int[] replicaIds = [.. decision.Replicas.Select(r => r.Replica)];
        bool Survived(int replica, int stage, string node) => previousNode.TryGetValue((replica, stage), out var was) && was == node;
        int total = replicaIds.Length * plan.StageCount;
        double[] costByStage = [.. demands.OrderBy(d => d.Stage).Select(d => d.Cost)];
        _stageCosts = [.. Enumerable.Range(0, total).Select(i => costByStage[i % plan.StageCount])]; // rank by rank, like the placement
        int moved = decision.Replicas.Sum(r => r.Nodes.Where((node, s) => !Survived(r.Replica, s, node)).Count());
        S.Placement = [.. decision.Replicas.SelectMany(r => r.Nodes.Select((node, s) =>
        {
            var (start, end) = plan.UnitRange(s);
            string units = $"{ModelLayout.UnitName(plan.Config, start)}…{ModelLayout.UnitName(plan.Config, end - 1)}";
            return new StagePlacement(s, node, NodeIds.SiloOf(node) ?? "?", start, end - start, units, r.Replica);
        }))];
        string where = string.Join(", ", S.Placement.Select(p => replicaIds.Length > 1 ? $"r{p.Replica}/s{p.Stage}→{p.NodeId}" : $"s{p.Stage}→{p.NodeId}"));
        if (recovering)
            await NarrateEvent(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobReplaced, jobId, null, S.Epoch, S.CompletedSteps, 0, Since(),
                $"{moved} of {total} stage(s) moved: {where}"));
        if (previous.Length > 0 && previous.Length != replicaIds.Length)
            await NarrateEvent(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.ReplicasChanged, jobId, null, S.Epoch, S.CompletedSteps, 0, Since(),
                $"replicas {previous.Length} → {replicaIds.Length} ({(request?.Why ?? (recovering ? $"recovering: {S.Error}" : "placed again"))}); " +
                $"each runs {ReplicaSplit.PerReplica(spec.MicroBatches, replicaIds.Length)} of the step's {spec.MicroBatches} micro-batches"));
        // Replicas dropped (a failure, a drain) still hold stage grains on live nodes: give their memory back.
        var dropped = previous.Where(r => !replicaIds.Contains(r.Replica)).ToArray();
        if (dropped.Length > 0)
            await ReleaseStages(ReplicaStages.Of(GrainFactory, jobId, [.. dropped.Select(r => r.Replica)], plan.StageCount));
        var stages = ReplicaStages.Of(GrainFactory, jobId, replicaIds, plan.StageCount);

        // Restore planner — resume from the newest state that loads: an operator's rewind; else the stages' in-memory
        // snapshots (held by their shards on other silos) when a recovery finds them all at one step not older than the
        // last durable checkpoint, chosen without asking the store (recovery from memory works while it is out); else
        // the newest committed checkpoint — a missing or corrupt shard rules its checkpoint out and the one before is
        // tried. Work after the restored step is recomputed, bit for bit. Checkpoints after the current step belong to
        // a timeline an operator rewound away from.
        // Invariant (never silently back to zero): a job that committed step N > 0 starts again from the initial
        // weights only when an operator asks for it (restore step 0); with nothing loadable it waits for storage.
        CheckpointManifest? restore = null;
        // Per stage, the replicas whose grain stayed on its node: they may still hold their own in-memory copies.
        int[][] survivors = [.. Enumerable.Range(0, plan.StageCount).Select(s =>
            decision.Replicas.Where(r => Survived(r.Replica, s, r.Nodes[s])).Select(r => r.Replica).ToArray())];
        long newestDurable = S.LastCheckpointStep ?? 0;
        long? memoryStep = request?.MemoryStep
            ?? (recovering && spec.SnapshotInterval > 0 ? await InMemorySnapshotStep(jobId, survivors, Math.Max(0, newestDurable - 1)) : null);
        bool configured = false;
        if (request?.Manifest is { } chosen)
        {
            try
            {
                await ConfigureAll(chosen, null);
                (configured, restore, memoryStep) = (true, chosen, null);
                _rewind?.Done.TrySetResult(Status() with { CompletedSteps = chosen.Step, LastLoss = chosen.Step > 0 ? chosen.LossHistory[^1] : null });
            }
            catch (CheckpointUnusableException e)
            {
                // The operator's checkpoint does not load: say so, and carry on from the usual choice.
                LogCheckpointRejected(logger, jobId, chosen.Step, e.Shard, e.Message);
                _rewind?.Done.TrySetException(new InvalidOperationException($"The checkpoint at step {chosen.Step} cannot be restored ({e.Shard}): {e.Message}"));
            }
            _rewind = null;
        }
        else if (request?.InitialWeights == true)
        {
            await ConfigureAll(null, null);
            (configured, memoryStep) = (true, null);
            _rewind?.Done.TrySetResult(Status() with { CompletedSteps = 0, LastLoss = null });
            _rewind = null;
        }
        if (!configured && memoryStep is { } candidateStep)
        {
            try
            {
                await ConfigureAll(null, candidateStep);
                configured = true;
            }
            catch (CheckpointUnusableException e)
            {
                LogCheckpointRejected(logger, jobId, candidateStep, e.Shard, e.Message);
                memoryStep = null;
            }
        }
        if (!configured)
        {
            var manifests = (await ListCommitted(jobId)).Where(m => m.Step <= S.CompletedSteps).ToArray();
            for (int candidate = manifests.Length - 1; !configured; candidate--)
            {
                restore = candidate >= 0 ? manifests[candidate] : null;
                if (restore is null && S.LastCheckpointStep is > 0 and long committedStep)
                    throw new StorageUnavailableException(
                        $"the checkpoint store ({store.Description}) holds no loadable checkpoint (committed: {(manifests.Length == 0 ? "none listed" : string.Join(", ", manifests.Select(m => m.Step)))}), " +
                        $"but step {committedStep} was committed; the job waits for it (to start again from the initial weights instead: restore step 0)");
                try
                {
                    await ConfigureAll(restore, null);
                    configured = true;
                }
                catch (CheckpointUnusableException e) when (restore is not null)
                {
                    LogCheckpointRejected(logger, jobId, restore.Step, e.Shard, e.Message);
                    await Narrate(ClusterEventKind.CheckpointRejected, restore.Step, 0, Since(), $"checkpoint at step {restore.Step} rejected ({e.Shard}): {ShortError.Line(e.Message)}");
                }
            }
        }
        long restoredStep = memoryStep ?? restore?.Step ?? 0;
        long lost = S.CompletedSteps - restoredStep;
        S.CompletedSteps = restoredStep;
        _writer.TruncateLosses((int)S.CompletedSteps);
        if (_writer.Losses.Count < S.CompletedSteps) _writer.ReplaceLosses(restore!.LossHistory.Take((int)S.CompletedSteps));
        // From memory, the durable checkpoint stays what it was (not newer than the restored step); else it is the one restored.
        if (memoryStep is null) S.LastCheckpointStep = restore?.Step;
        _abort = NewAbort();
        if (request is not null)
            await NarrateEvent(new ClusterEvent(time.GetUtcNow(), request.Kind, jobId, null, S.Epoch, S.CompletedSteps, Math.Max(0, lost), (time.GetUtcNow() - started).TotalSeconds,
                $"{request.Why}: {moved} of {total} stage(s) moved ({where}); " +
                (memoryStep is not null ? $"live state of step {memoryStep}, no step lost"
                 : restore is null ? "from the initial weights" : $"from the checkpoint at step {restore.Step}")));
        else if (recovering)
            await NarrateEvent(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobRestored, jobId, null, S.Epoch, S.CompletedSteps, lost, Since(),
                (memoryStep is not null ? $"restored from the in-memory snapshots of step {memoryStep}"
                : restore is null ? "restarted from the initial weights"
                : $"restored from the durable checkpoint at step {restore.Step}") +
                (memoryStep is null && _memorySnapshots is not null ? $" (in-memory snapshots held: {_memorySnapshots})" : "")));
        S.State = JobState.Running;
        S.Error = null;
        await _writer.Flush();
        await Publish($"running from step {S.CompletedSteps} (epoch {S.Epoch}; {moved} stage(s) moved; {lost} step(s) to recompute)");
        return stages;

        Task ConfigureAll(CheckpointManifest? manifest, long? fromMemory) =>
            Task.WhenAll(decision.Replicas.SelectMany((replica, rank) => stages.ByRank[rank].Select((stage, s) => ConfigureStage(stage, new StageAssignment
            {
                Job = spec,
                Replica = replica.Replica,
                Stage = s,
                Epoch = S.Epoch,
                NodeId = replica.Nodes[s],
                UnitsPerStage = unitsPerStage,
                RestoreFrom = manifest,
                RestoreFromMemoryStep = fromMemory,
                ReplicaIds = replicaIds,
                SnapshotPeers = [.. survivors[s].Where(id => id != replica.Replica).Select(id => StageKeys.Stage(jobId, id, s))],
            }))));
    }

    /// <summary>
    /// The newest step for which every stage still has an in-memory snapshot somewhere — the stage's own copy (if the
    /// stage survived) or its shard's (on another silo) — when newer than every committed checkpoint. One lost silo
    /// never takes both copies of a stage.
    /// </summary>
    private async Task<long?> InMemorySnapshotStep(string jobId, int[][] survivors, long newerThan)
    {
        var copies = await Task.WhenAll(Enumerable.Range(0, survivors.Length).Select(async s =>
        {
            long[] shard = await LatestOrNone(() => GrainFactory.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s)).GetSnapshotSteps());
            // Only a stage that stayed on its node can still hold its own copy (asking a lost one would just fail).
            var own = await Task.WhenAll(survivors[s].Select(id => LatestOrNone(() => GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, id, s)).GetSnapshotSteps())));
            return (IReadOnlySet<long>)shard.Concat(own.SelectMany(o => o)).Where(step => step >= 0).ToHashSet();
        }));
        _memorySnapshots = string.Join(", ", copies.Select((c, s) => $"s{s}: {(c.Count == 0 ? "none" : string.Join("/", c.Order()))}"));
        return RecoveryPoint.InMemoryStep(copies, newerThan, S.CompletedSteps);

        async Task<long[]> LatestOrNone(Func<Task<long[]>> read)
        {
            try
            {
                return await read().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e)
            {
                LogNoMemorySnapshot(logger, e, jobId); // a copy that died with its silo
                return [];
            }
        }
    }

    private static async Task ConfigureStage(IPipelineStageGrain stage, StageAssignment assignment)
    {
        for (int attempt = 1; ; attempt++)
        {
            RequestContext.Set(PlacementContextKeys.Node, assignment.NodeId);
            Task configure;
            try
            {
                configure = stage.Configure(assignment);
            }
            finally
            {
                RequestContext.Remove(PlacementContextKeys.Node);
            }
            try
            {
                await configure;
                return;
            }
            catch (StageMisplacedException) when (attempt < 50)
            {
                // The old activation is leaving its silo; once it has, the next call activates the stage on its node.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 20 * attempt)));
            }
        }
    }

    private async Task TrainStep(Interfaces.Jobs.JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        var clock = Stopwatch.StartNew();
        long step = S.CompletedSteps;
        long epoch = S.Epoch;
        int m = spec.MicroBatches;
        var losses = new double[m];
        double compute = 0, queue = 0, messaging = 0;

        // Each replica runs its block of the global micro-batches through its own pipeline; 1F1B keeps at most P
        // micro-batches in a pipe, GPipe lets the whole block in.
        int ranks = stages.Count;
        int k = ReplicaSplit.PerReplica(m, ranks);
        int window = spec.Schedule == "gpipe" ? k : Math.Min(k, plan.StageCount);
        await Guard(Task.WhenAll(Enumerable.Range(0, ranks).Select(RunReplica)));

        // Every replica's stage is asked at once: the same stage of all replicas all-reduce their gradients first.
        var reduce = Stopwatch.StartNew();
        var squares = await Guard(Task.WhenAll(stages.All.Select(s => s.GradientSquares(epoch, step))));
        double norm = GradientNorm.Global(squares.Take(plan.StageCount)); // rank 0's, in stage order: every rank's are the same
        double coefficient = GradientNorm.ClipCoefficient(norm, spec.Optimizer.ClipNorm);
        double[] deviceMs = await Guard(Task.WhenAll(stages.All.Select(s => s.ApplyUpdate(epoch, step, coefficient))));
        reduce.Stop();

        double loss = LossReduction.Mean(losses);
        S.CompletedSteps = step + 1;
        _writer.AddLoss(loss);
        double seconds = clock.Elapsed.TotalSeconds;
        _secondsPerStep = _secondsPerStep == 0 ? seconds : 0.8 * _secondsPerStep + 0.2 * seconds;
        _tokensPerSecond = (double)m * spec.MicroBatchSize * spec.Model.ContextLength / _secondsPerStep;
        TrainingMetrics.StepCompleted(spec.JobId, (long)m * spec.MicroBatchSize * spec.Model.ContextLength, loss, clock.Elapsed);
        _timings.Add(new StepTiming(step, clock.Elapsed.TotalMilliseconds, compute, queue, messaging, reduce.Elapsed.TotalMilliseconds));
        if (_timings.Count > TimingsKept) _timings.RemoveAt(0);
        _writer.Request(); // in the background: a slow or unreachable store never holds a step up
        await Publish(null);
        await WatchForStragglers(spec, deviceMs);

        async Task RunReplica(int rank)
        {
            var inFlight = new List<Task>(window);
            for (int micro = rank * k; micro < (rank + 1) * k; micro++)
            {
                if (inFlight.Count >= window)
                {
                    var finished = await Guard(Task.WhenAny(inFlight));
                    await finished; // surface its failure now
                    inFlight.Remove(finished);
                }
                inFlight.Add(RunMicroBatch(stages.ByRank[rank][0], micro));
            }
            await Guard(Task.WhenAll(inFlight));
        }

        async Task RunMicroBatch(IPipelineStageGrain first, int micro)
        {
            long started = Stopwatch.GetTimestamp();
            var result = await first.RunMicroBatch(epoch, step, micro, null);
            double roundTrip = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            losses[micro] = result.Loss;
            compute += result.ComputeMs;
            queue += result.QueueMs;
            messaging += Math.Max(0, roundTrip - result.ComputeMs - result.QueueMs);
        }
    }

    /// <summary>
    /// Feeds the step's device time per stage to the straggler detector; a flagged node is reported to the scheduler,
    /// and its stages move at the next step boundary when a spare node can take them.
    /// </summary>
    private async Task WatchForStragglers(JobSpec spec, double[] deviceMs)
    {
        if (_stragglers is null || S.Placement.Count != deviceMs.Length || _stageCosts.Length != deviceMs.Length) return;
        string[] nodes = [.. S.Placement.Select(p => p.NodeId)]; // rank by rank, stage by stage: the order of deviceMs
        if (_stragglers.Observe(nodes, deviceMs, _stageCosts) is not { } straggler) return;
        LogStraggler(logger, spec.JobId, straggler.NodeId, straggler.Reason);
        bool spare = await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).ReportStraggler(spec.JobId, straggler.NodeId, straggler.Reason);
        if (spare)
            _moveOff[straggler.NodeId] = $"node {straggler.NodeId} is a straggler ({straggler.Reason})";
    }

    /// <summary>Awaits <paramref name="work"/> unless the scheduler reports one of this job's nodes lost first.</summary>
    private async Task<T> Guard<T>(Task<T> work)
    {
        await Guard((Task)work);
        return await work;
    }

    private async Task Guard(Task work)
    {
        var abort = _abort.Task;
        if (await Task.WhenAny(work, abort) == abort)
        {
            _ = work.ContinueWith(t => t.Exception, TaskScheduler.Default); // its late failure is expected; observe it
            throw new NodeLostException(abort.Result);
        }
        await work;
    }

    private static TaskCompletionSource<string> NewAbort() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private double? Since() => _recovery is { } r ? (time.GetUtcNow() - r.At).TotalSeconds : null;

    private static bool IsCheckpointDue(JobSpec spec, long completedSteps) =>
        completedSteps == spec.Steps || (spec.CheckpointInterval > 0 && completedSteps % spec.CheckpointInterval == 0);

    /// <summary>
    /// Takes the durable snapshots of this step and starts their commit in the background. With a commit still in
    /// flight (a slow or hung store) it is skipped: the checkpoint coordinator allows one at a time.
    /// </summary>
    private async Task Checkpoint(JobSpec spec, ReplicaStages stages)
    {
        await ApplyCommitted(_checkpoints.Collect());
        if (_checkpoints.PendingStep >= 0 || S.LastCheckpointStep == S.CompletedSteps) return;
        long step = S.CompletedSteps;
        long epoch = S.Epoch;
        S.State = JobState.Checkpointing;
        await Guard(Task.WhenAll(stages.All.Select(s => s.Snapshot(epoch, step, durable: true))));
        _lastSnapshotStep = step;
        _checkpoints.Begin(spec, epoch, step, [.. _writer.Losses]);
        await Publish($"checkpointing step {step}");
        if (S.State == JobState.Checkpointing) S.State = JobState.Running; // the commit goes on in the background
    }

    /// <summary>Records a committed checkpoint in job state (written in the background) and says so.</summary>
    private async Task ApplyCommitted(CheckpointManifest? manifest)
    {
        if (manifest is null || manifest.Epoch != S.Epoch || manifest.Step > S.CompletedSteps) return; // a commit of a timeline the job left
        S.LastCheckpointStep = manifest.Step;
        _writer.Request();
        await Publish($"checkpoint at step {manifest.Step} committed");
    }

    /// <summary>
    /// Waits, with the stages kept (they hold the live state), until this step's checkpoint is committed — and, with
    /// <paramref name="stateToo"/>, recorded in saved job state. Shown as <see cref="JobState.WaitingForStorage"/>
    /// once the wait lasts <paramref name="visibleAfter"/>; it resumes by itself, retaking the checkpoint after each
    /// back-off. Returns when durable or cancelled; a lost node during the wait ends it like a failed step.
    /// </summary>
    private async Task WaitForStorage(JobSpec spec, ReplicaStages stages, bool stateToo, TimeSpan visibleAfter)
    {
        var started = time.GetUtcNow();
        bool visible = false;
        while (!_cancelRequested)
        {
            await ApplyCommitted(_checkpoints.Collect());
            if (S.LastCheckpointStep == S.CompletedSteps && (!stateToo || _writer.DurableCheckpointStep >= S.CompletedSteps)) break;
            if (_abort.Task.IsCompleted) throw new NodeLostException(_abort.Task.Result);
            if (_writer.Fenced is { } fenced) throw fenced;
            if (_checkpoints.PendingStep < 0 && S.LastCheckpointStep != S.CompletedSteps && (_checkpoints.Problem is null || _checkpoints.RetryDue))
                await Checkpoint(spec, stages);
            if (!visible && time.GetUtcNow() - started >= visibleAfter)
            {
                visible = true;
                long durable = _writer.DurableCheckpointStep;
                await EnterWaitingForStorage(
                    $"waiting for storage: step {S.CompletedSteps} not durable (last durable checkpoint: step {durable}); " +
                    $"{_checkpoints.Problem ?? _writer.Problem ?? "a checkpoint commit is in flight"}; it resumes by itself", null);
            }
            await Backoff.Wait(time, _options.StorageRetryDelay, Task.WhenAny(_wake.Task, _abort.Task, _checkpoints.Settled));
            if (_wake.Task.IsCompleted) _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (!visible) return;
        S.State = JobState.Running;
        S.Error = null;
        _writer.Request();
        double seconds = (time.GetUtcNow() - started).TotalSeconds;
        LogStorageBack(logger, spec.JobId, S.CompletedSteps, seconds);
        await Narrate(ClusterEventKind.StorageReturned, S.CompletedSteps, 0, seconds, $"storage is back: checkpoint at step {S.LastCheckpointStep} committed; training goes on");
        await Publish($"storage is back at step {S.CompletedSteps}");
    }

    /// <summary>Shows the job as waiting for storage, with a one-line reason (the details go to the log).</summary>
    private async Task EnterWaitingForStorage(string reason, Exception? exception)
    {
        bool entering = S.State != JobState.WaitingForStorage;
        S.State = JobState.WaitingForStorage;
        S.Error = reason;
        _writer.Request();
        LogWaitingForStorage(logger, exception, this.GetPrimaryKeyString(), S.CompletedSteps, reason);
        if (!entering) return;
        await Narrate(ClusterEventKind.WaitingForStorage, S.CompletedSteps, 0, null, reason);
        await Publish(reason);
    }

    /// <summary>The job's committed checkpoints; <see cref="StorageUnavailableException"/> when the store cannot list them.</summary>
    private async Task<IReadOnlyList<CheckpointManifest>> ListCommitted(string jobId)
    {
        try
        {
            return await store.ListManifestsAsync(jobId);
        }
        catch (Exception e)
        {
            throw new StorageUnavailableException($"the checkpoint store ({store.Description}) cannot be listed: {ShortError.Of(e)}", e);
        }
    }

    /// <summary>
    /// Ends the job. The terminal state is durable before the job lets go of its nodes and says so (the writer retries
    /// through an outage); failures to release are logged, never thrown (the state is already terminal).
    /// </summary>
    private async Task Finish(JobState state, string? error, ReplicaStages stages)
    {
        S.State = state;
        S.Error = error;
        await _writer.Flush();
        await Publish(error);
        await ReleaseStages(stages);
        try
        {
            await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Release(this.GetPrimaryKeyString());
            await Registry.Remove(this.GetPrimaryKeyString());
        }
        catch (Exception e)
        {
            LogReleaseNodesFailed(logger, e, this.GetPrimaryKeyString());
        }
        _keepAlive?.Dispose();
        _keepAlive = null;
        LogFinished(logger, this.GetPrimaryKeyString(), state, S.CompletedSteps, _writer.Losses.Count > 0 ? _writer.Losses[^1] : double.NaN);
    }

    private async Task ReleaseStages(ReplicaStages stages)
    {
        long epoch = S.Epoch;
        await Task.WhenAll(stages.All.Select(async s =>
        {
            try
            {
                await s.Release(epoch);
            }
            catch (Exception e)
            {
                LogReleaseFailed(logger, e, this.GetPrimaryKeyString());
            }
        }));
    }

    private JobStatus Status()
    {
        var spec = S.Spec;
        long total = spec?.Steps ?? 0;
        TimeSpan? eta = S.State is JobState.Running or JobState.Checkpointing && _secondsPerStep > 0
            ? TimeSpan.FromSeconds(_secondsPerStep * (total - S.CompletedSteps))
            : null;
        return new JobStatus
        {
            JobId = this.GetPrimaryKeyString(),
            State = S.State,
            Epoch = S.Epoch,
            CompletedSteps = S.CompletedSteps,
            TotalSteps = total,
            LastLoss = _writer.Losses.Count > 0 ? _writer.Losses[^1] : null,
            TokensPerSecond = _tokensPerSecond,
            Eta = eta,
            Placement = [.. S.Placement],
            LastCheckpointStep = S.LastCheckpointStep,
            Error = S.Error ?? (IsTerminal(S.State) ? null : _writer.Problem ?? _checkpoints.Problem),
            UpdatedAt = S.UpdatedAt,
            HostSilo = silo.Name,
            Priority = spec?.Priority ?? 0,
            Team = spec?.Team ?? "default",
            Replicas = S.State is JobState.Running or JobState.Checkpointing or JobState.Recovering or JobState.Placing or JobState.WaitingForStorage
                ? S.Placement.Select(p => p.Replica).Distinct().Count() : 0,
            MinReplicas = spec?.MinReplicas ?? 1,
            MaxReplicas = spec?.MaxReplicas ?? 1,
        };
    }

    private async Task Publish(string? message)
    {
        if (_writer.Fenced is not null) return; // a superseded activation says nothing
        var status = Status();
        try
        {
            var stream = this.GetStreamProvider(JobStreams.Provider)
                .GetStream<JobProgress>(StreamId.Create(JobStreams.ProgressNamespace, status.JobId));
            await stream.OnNextAsync(new JobProgress(status.JobId, status.State, status.Epoch, status.CompletedSteps, status.TotalSteps,
                status.LastLoss, status.TokensPerSecond, status.Eta, time.GetUtcNow(), message, status.Replicas));
        }
        catch (Exception e)
        {
            LogPublishFailed(logger, e, status.JobId); // progress is best-effort; training goes on
        }
    }

    /// <summary>Publishes a cluster event of this job in its epoch — only while this activation owns the job.</summary>
    private Task Narrate(ClusterEventKind kind, long step, long lostSteps, double? seconds, string message) =>
        NarrateEvent(new ClusterEvent(time.GetUtcNow(), kind, this.GetPrimaryKeyString(), null, S.Epoch, step, lostSteps, seconds, message));

    private Task NarrateEvent(ClusterEvent e) => _writer.Fenced is null ? this.Publish(e) : Task.CompletedTask;

    private bool DataSourceExists(string source)
    {
        try
        {
            corpora.Get(source);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or ArgumentException or IOException)
        {
            return false;
        }
    }

    private static bool IsTerminal(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled;
}
