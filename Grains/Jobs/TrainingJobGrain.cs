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
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    [PersistentState("job", StorageNames.Jobs)] IPersistentState<JobGrainState> persisted,
    ICheckpointStore store,
    TokenSourceCache corpora,
    ILocalSiloDetails silo,
    IOptions<TrainingClusterOptions> options,
    TimeProvider time,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain
{
    private const int TimingsKept = 200;
    private const int MaxRecoveriesWithoutProgress = 20;
    private readonly List<StepTiming> _timings = [];
    private Task? _loop;
    private Task? _pendingCommit;
    private long _pendingCommitStep = -1;
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
    private (CheckpointManifest Manifest, TaskCompletionSource<JobStatus> Done)? _rewind;
    private long _lastSnapshotStep = -1;
    private string? _memorySnapshots; // what the last recovery found in memory, for its event // step of the newest in-memory snapshot every stage holds in this epoch
    private StragglerDetector? _stragglers;
    private DateTimeOffset _lastGrowthCheck;
    private (int Replicas, string Reason)? _shrinkTo; // the scheduler's request, acted on at the next step boundary
    private double[] _stageCosts = []; // planned cost per stage of every replica (rank by rank), for the straggler detector

    private JobGrainState S => persisted.State;

    private IJobRegistryGrain Registry => GrainFactory.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Spec is not null && !IsTerminal(S.State))
            StartLoop(); // the silo that ran this job went away: carry on from persisted state
        return Task.CompletedTask;
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
        await Save();
        await Registry.Add(jobId);
        LogSubmitted(logger, jobId, spec.Steps, spec.Stages);
        StartLoop();
        return Status();
    }

    public Task<JobStatus> GetStatus() => Task.FromResult(Status());

    public Task<JobSpec?> GetSpec() => Task.FromResult(S.Spec);

    public Task<IReadOnlyList<double>> GetLossHistory() => Task.FromResult<IReadOnlyList<double>>(S.LossHistory.ToArray());

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
        var committed = await store.ListManifestsAsync(jobId);
        var manifest = committed.FirstOrDefault(m => m.Step == step)
            ?? throw new ArgumentException($"Job {jobId} has no committed checkpoint at step {step}. Committed: " +
                (committed.Count == 0 ? "none." : string.Join(", ", committed.Select(m => m.Step)) + "."), nameof(step));
        var done = new TaskCompletionSource<JobStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _rewind?.Done.TrySetException(new InvalidOperationException($"Superseded by a restore to step {step}."));
        _rewind = (manifest, done);
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
        _loop = RunLoop();
    }

    private async Task RunLoop()
    {
        var spec = S.Spec!;
        ReplicaStages stages = ReplicaStages.None;
        int failuresWithoutProgress = 0;
        PlacementRequest? request = null;
        while (true)
        {
            try
            {
                if (S.State == JobState.Paused)
                {
                    request = await WaitWhilePaused();
                    if (_cancelRequested) break;
                }
                stages = await PlaceAndConfigure(spec, request);
                request = null;
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
                    request = await AtStepBoundary(spec, plan, stages);
                    if (request is not null || S.State == JobState.Paused) break;
                    await TrainStep(spec, plan, stages);
                    failuresWithoutProgress = 0;
                    if (_recovery is { } recovered)
                    {
                        _recovery = null;
                        long lostSteps = Math.Max(0, recovered.StepsBefore - (S.CompletedSteps - 1));
                        await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobResumed, this.GetPrimaryKeyString(), null, S.Epoch,
                            S.CompletedSteps, lostSteps, (time.GetUtcNow() - recovered.At).TotalSeconds,
                            $"first step after recovery done; {lostSteps} completed step(s) recomputed"));
                    }
                    if (IsCheckpointDue(spec, S.CompletedSteps))
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
                if (_pendingCommit is not null) await _pendingCommit;
                break;
            }
            catch (Exception e) when (!_cancelRequested && e is not JobUnplaceableException && ++failuresWithoutProgress <= MaxRecoveriesWithoutProgress)
            {
                // A node, a silo or a message was lost. Everything of this epoch is fenced off by the next one; the
                // job re-places (survivors stay), restores the newest committed checkpoint and replays the same data.
                request = null;
                LogRecovering(logger, e, this.GetPrimaryKeyString(), S.CompletedSteps, failuresWithoutProgress);
                _recovery ??= (time.GetUtcNow(), S.CompletedSteps);
                TrainingMetrics.Recovering(this.GetPrimaryKeyString());
                await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobRecovering, this.GetPrimaryKeyString(), null, S.Epoch,
                    S.CompletedSteps, 0, Since(), $"failure at step {S.CompletedSteps}: {e.Message}"));
                S.State = JobState.Recovering;
                S.Error = $"recovering from: {e.Message}";
                await Save();
                await Publish($"failure at step {S.CompletedSteps}: {e.Message} — recovering");
                await DrainPendingCommit();
                await Task.Delay(TimeSpan.FromMilliseconds(100 * failuresWithoutProgress)); // back off if failures repeat
            }
            catch (Exception e)
            {
                LogFailed(logger, e, this.GetPrimaryKeyString(), S.CompletedSteps);
                await DrainPendingCommit();
                await Finish(JobState.Failed, e.Message, stages);
                return;
            }
        }
        await Finish(_cancelRequested ? JobState.Cancelled : JobState.Completed, null, stages);
    }

    /// <summary>
    /// Operator requests, between two steps (every stage has applied the same number of updates): a rewind, a
    /// checkpoint, a pause, moving stages off drained or straggling nodes. Returns how to place again, or null to go on.
    /// </summary>
    private async Task<PlacementRequest?> AtStepBoundary(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        if (_rewind is { } rewind)
        {
            await DrainPendingCommit();
            return new PlacementRequest(null, null, rewind.Manifest, $"rewound by an operator to the checkpoint at step {rewind.Manifest.Step}", ClusterEventKind.JobRewound);
        }
        if (_checkpointWaiters.Count > 0)
        {
            var waiters = _checkpointWaiters.ToArray();
            _checkpointWaiters.Clear();
            try
            {
                var manifest = await CheckpointAndCommit(spec, stages);
                foreach (var waiter in waiters) waiter.TrySetResult(manifest);
                await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.CheckpointCreated, spec.JobId, null, S.Epoch, S.CompletedSteps, 0, null,
                    $"checkpoint at step {manifest.Step} committed on request"));
            }
            catch (Exception e)
            {
                foreach (var waiter in waiters) waiter.TrySetException(new InvalidOperationException($"The checkpoint at step {S.CompletedSteps} failed: {e.Message}", e));
                throw;
            }
        }
        if (_pauseRequested)
        {
            await CheckpointAndCommit(spec, stages);
            await EnterPaused(spec, stages);
            return null;
        }
        if (_preemptedBecause is { } preempted)
        {
            // Give the nodes back with nothing to lose: commit this step, free the nodes, then wait for capacity
            // like any queued job; placing again restores this checkpoint.
            _preemptedBecause = null;
            var manifest = await CheckpointAndCommit(spec, stages);
            await ReleaseStages(stages);
            await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Release(spec.JobId);
            S.Placement = [];
            LogPreempted(logger, spec.JobId, S.CompletedSteps, preempted);
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobPreempted, spec.JobId, null, S.Epoch, S.CompletedSteps, 0, null,
                $"{preempted}: checkpoint at step {manifest.Step} committed, nodes freed; it resumes when capacity returns"));
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
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.StagesMoved, jobId, null, S.Epoch, S.CompletedSteps, 0, null,
                $"stages not moved ({why}): {decision.Reason}"));
            return null;
        }
        await DrainPendingCommit();
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

    /// <summary>Waits for the checkpoint in flight to commit before stages move (its failure fails the step boundary, as a step's would).</summary>
    private async Task CommitPending()
    {
        if (_pendingCommit is null) return;
        await _pendingCommit;
        _pendingCommit = null;
    }

    /// <summary>Gives replicas back to the scheduler (down to <paramref name="target"/>, never below the minimum) from live state.</summary>
    private async Task<PlacementRequest?> PlanShrink(JobSpec spec, StagePlan plan, ReplicaStages stages, int target, string why)
    {
        var current = ReplicaStages.NodesOf(S.Placement);
        IReadOnlyList<int> counts = [.. JobSpecs.ReplicaCounts(spec).Where(c => c <= Math.Max(target, spec.MinReplicas) && c < current.Count)];
        if (counts.Count == 0) return null;
        var decision = await PlaceReplicasOrStay(spec, plan, counts, current, current, why);
        if (!decision.Placed) return null;
        await DrainPendingCommit();
        return await FromLiveState(stages, decision.Replicas, why);
    }

    /// <summary>Elastic scale-up at a checkpoint boundary: the scheduler proposes a faster placement (nodes joined) or none.</summary>
    private async Task<PlacementRequest?> ProposeScaleUp(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        var current = ReplicaStages.NodesOf(S.Placement);
        var layout = ReplicaLayout.For(JobSpecs.Demands(spec, plan), current.Count, current, _ => true);
        var proposal = await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).ProposeFasterPlacement(spec.JobId, layout.Demands);
        if (!proposal.Placed) return null;
        await CommitPending();
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
        await CommitPending();
        return await FromLiveState(stages, proposal.Replicas, $"growing onto free nodes: {current.Count} → {proposal.Replicas.Count} replicas");
    }

    private async Task SnapshotInMemory(ReplicaStages stages)
    {
        if (_lastSnapshotStep == S.CompletedSteps) return;
        long epoch = S.Epoch, step = S.CompletedSteps;
        await Guard(Task.WhenAll(stages.All.Select(s => s.Snapshot(epoch, step, durable: false))));
        _lastSnapshotStep = step;
    }

    /// <summary>Commits a checkpoint of the current step (unless one is already committed) and returns its manifest.</summary>
    private async Task<CheckpointManifest> CheckpointAndCommit(JobSpec spec, ReplicaStages stages)
    {
        if (S.LastCheckpointStep != S.CompletedSteps && !(_pendingCommit is not null && _pendingCommitStep == S.CompletedSteps))
            await Checkpoint(spec, stages);
        if (_pendingCommit is { } pending)
        {
            _pendingCommit = null;
            await Guard(pending);
        }
        var committed = await store.ListManifestsAsync(spec.JobId);
        return committed.LastOrDefault(m => m.Step == S.CompletedSteps)
            ?? throw new InvalidOperationException($"The checkpoint of step {S.CompletedSteps} of job {spec.JobId} is not among the committed ones.");
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
        await Save();
        LogPaused(logger, spec.JobId, S.CompletedSteps);
        await Publish($"paused at step {S.CompletedSteps}");
        await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobPaused, spec.JobId, null, S.Epoch, S.CompletedSteps, 0, null,
            $"paused at step {S.CompletedSteps} (checkpoint at step {S.LastCheckpointStep?.ToString() ?? "none"}); nodes freed"));
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(Status());
        _pauseWaiters.Clear();
    }

    private async Task<PlacementRequest?> WaitWhilePaused()
    {
        await _resumed.Task;
        if (_cancelRequested) return null;
        if (_rewind is { } rewind)
            return new PlacementRequest(null, null, rewind.Manifest, $"resumed by an operator, rewound to the checkpoint at step {rewind.Manifest.Step}", ClusterEventKind.JobRewound);
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
    }

    /// <summary>Waits for a checkpoint commit that was in flight when a step failed; its failure only means no commit.</summary>
    private async Task DrainPendingCommit()
    {
        var pending = _pendingCommit;
        _pendingCommit = null;
        if (pending is null) return;
        try
        {
            await pending;
        }
        catch (Exception e)
        {
            LogCommitLost(logger, e, this.GetPrimaryKeyString());
            if (S.State == JobState.Checkpointing) S.State = JobState.Running;
        }
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
        await Save();
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
                await Save();
                await Publish($"waiting for capacity: {decision.Reason}");
                await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.WaitingForCapacity, jobId, null, S.Epoch, S.CompletedSteps, 0, Since(),
                    decision.Reason ?? "no capacity"));
            }
            if (_cancelRequested || _pauseRequested) return ReplicaStages.None;
            await Task.Delay(TimeSpan.FromSeconds(1));
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
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobReplaced, jobId, null, S.Epoch, S.CompletedSteps, 0, Since(),
                $"{moved} of {total} stage(s) moved: {where}"));
        if (previous.Length > 0 && previous.Length != replicaIds.Length)
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.ReplicasChanged, jobId, null, S.Epoch, S.CompletedSteps, 0, Since(),
                $"replicas {previous.Length} → {replicaIds.Length} ({(request?.Why ?? (recovering ? $"recovering: {S.Error}" : "placed again"))}); " +
                $"each runs {ReplicaSplit.PerReplica(spec.MicroBatches, replicaIds.Length)} of the step's {spec.MicroBatches} micro-batches"));
        // Replicas dropped (a failure, a drain) still hold stage grains on live nodes: give their memory back.
        var dropped = previous.Where(r => !replicaIds.Contains(r.Replica)).ToArray();
        if (dropped.Length > 0)
            await ReleaseStages(ReplicaStages.Of(GrainFactory, jobId, [.. dropped.Select(r => r.Replica)], plan.StageCount));
        var stages = ReplicaStages.Of(GrainFactory, jobId, replicaIds, plan.StageCount);

        // Resume from the newest state that loads: the stages' in-memory snapshots (held by their shards on other
        // silos) when a recovery finds them all at the same step, newer than the last durable checkpoint; else the
        // newest committed checkpoint — a missing or corrupt shard rules its checkpoint out and the one before is
        // tried (ultimately the initial weights). Work after the restored step is recomputed, bit for bit.
        // Checkpoints after the current step belong to a timeline an operator rewound away from.
        var manifests = (await store.ListManifestsAsync(jobId)).Where(m => m.Step <= S.CompletedSteps).ToArray();
        CheckpointManifest? restore = null;
        // Per stage, the replicas whose grain stayed on its node: they may still hold their own in-memory copies.
        int[][] survivors = [.. Enumerable.Range(0, plan.StageCount).Select(s =>
            decision.Replicas.Where(r => Survived(r.Replica, s, r.Nodes[s])).Select(r => r.Replica).ToArray())];
        long? memoryStep = request?.MemoryStep
            ?? (recovering && spec.SnapshotInterval > 0 ? await InMemorySnapshotStep(jobId, survivors, manifests) : null);
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
        for (int candidate = manifests.Length - 1; !configured; candidate--)
        {
            restore = candidate >= 0 ? manifests[candidate] : null;
            try
            {
                await ConfigureAll(restore, null);
                configured = true;
            }
            catch (CheckpointUnusableException e) when (restore is not null)
            {
                LogCheckpointRejected(logger, jobId, restore.Step, e.Shard, e.Message);
                await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.CheckpointRejected, jobId, null, S.Epoch, restore.Step, 0, Since(),
                    $"checkpoint at step {restore.Step} rejected ({e.Shard}): {e.Message}"));
            }
        }
        long restoredStep = memoryStep ?? restore?.Step ?? 0;
        long lost = S.CompletedSteps - restoredStep;
        S.CompletedSteps = restoredStep;
        S.LossHistory = [.. S.LossHistory.Take((int)S.CompletedSteps)];
        if (S.LossHistory.Count < S.CompletedSteps) S.LossHistory = [.. restore!.LossHistory.Take((int)S.CompletedSteps)];
        S.LastCheckpointStep = manifests.LastOrDefault(m => m.Step <= restoredStep)?.Step;
        _abort = NewAbort();
        if (request is not null)
            await this.Publish(new ClusterEvent(time.GetUtcNow(), request.Kind, jobId, null, S.Epoch, S.CompletedSteps, Math.Max(0, lost), (time.GetUtcNow() - started).TotalSeconds,
                $"{request.Why}: {moved} of {total} stage(s) moved ({where}); " +
                (memoryStep is not null ? $"live state of step {memoryStep}, no step lost"
                 : restore is null ? "from the initial weights" : $"from the checkpoint at step {restore.Step}")));
        else if (recovering)
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobRestored, jobId, null, S.Epoch, S.CompletedSteps, lost, Since(),
                (memoryStep is not null ? $"restored from the in-memory snapshots of step {memoryStep}"
                : restore is null ? "restarted from the initial weights"
                : $"restored from the durable checkpoint at step {restore.Step}") +
                (memoryStep is null && _memorySnapshots is not null ? $" (in-memory snapshots held: {_memorySnapshots})" : "")));
        S.State = JobState.Running;
        S.Error = null;
        await Save();
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
    private async Task<long?> InMemorySnapshotStep(string jobId, int[][] survivors, IReadOnlyList<CheckpointManifest> manifests)
    {
        var copies = await Task.WhenAll(Enumerable.Range(0, survivors.Length).Select(async s =>
        {
            long[] shard = await LatestOrNone(() => GrainFactory.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s)).GetSnapshotSteps());
            // Only a stage that stayed on its node can still hold its own copy (asking a lost one would just fail).
            var own = await Task.WhenAll(survivors[s].Select(id => LatestOrNone(() => GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, id, s)).GetSnapshotSteps())));
            return (IReadOnlySet<long>)shard.Concat(own.SelectMany(o => o)).Where(step => step >= 0).ToHashSet();
        }));
        _memorySnapshots = string.Join(", ", copies.Select((c, s) => $"s{s}: {(c.Count == 0 ? "none" : string.Join("/", c.Order()))}"));
        return RecoveryPoint.InMemoryStep(copies, manifests.Count > 0 ? manifests[^1].Step : 0, S.CompletedSteps);

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
        S.LossHistory.Add(loss);
        double seconds = clock.Elapsed.TotalSeconds;
        _secondsPerStep = _secondsPerStep == 0 ? seconds : 0.8 * _secondsPerStep + 0.2 * seconds;
        _tokensPerSecond = (double)m * spec.MicroBatchSize * spec.Model.ContextLength / _secondsPerStep;
        TrainingMetrics.StepCompleted(spec.JobId, (long)m * spec.MicroBatchSize * spec.Model.ContextLength, loss, clock.Elapsed);
        _timings.Add(new StepTiming(step, clock.Elapsed.TotalMilliseconds, compute, queue, messaging, reduce.Elapsed.TotalMilliseconds));
        if (_timings.Count > TimingsKept) _timings.RemoveAt(0);
        await Save();
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

    private async Task Checkpoint(JobSpec spec, ReplicaStages stages)
    {
        if (_pendingCommit is not null) await _pendingCommit; // one checkpoint in flight at a time
        long step = S.CompletedSteps;
        long epoch = S.Epoch;
        S.State = JobState.Checkpointing;
        await Guard(Task.WhenAll(stages.All.Select(s => s.Snapshot(epoch, step, durable: true))));
        _lastSnapshotStep = step;
        await Publish($"checkpointing step {step}");
        _pendingCommitStep = step;
        _pendingCommit = Commit(spec, epoch, step, [.. S.LossHistory]);
    }

    private async Task Commit(JobSpec spec, long epoch, long step, double[] lossHistory)
    {
        long started = time.GetTimestamp();
        string jobId = spec.JobId;
        var plan = JobSpecs.PlanOf(spec);
        var shards = await Task.WhenAll(Enumerable.Range(0, plan.StageCount)
            .Select(s => GrainFactory.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s)).WaitDurable(epoch, step)));
        var manifest = new CheckpointManifest
        {
            JobId = jobId,
            Step = step,
            Epoch = epoch,
            CreatedAt = time.GetUtcNow(),
            Model = spec.Model,
            UnitsPerStage = [.. plan.UnitsPerStage],
            Shards = [.. shards.SelectMany(s => s)],
            DataSource = spec.DataSource,
            DataSeed = spec.DataSeed,
            MicroBatches = spec.MicroBatches,
            MicroBatchSize = spec.MicroBatchSize,
            LossHistory = lossHistory,
        };
        await store.CommitManifestAsync(manifest);
        S.LastCheckpointStep = step;
        if (S.State == JobState.Checkpointing) S.State = JobState.Running;
        await Save();
        TrainingMetrics.CheckpointCommitted(jobId, time.GetElapsedTime(started));
        LogCommitted(logger, jobId, step, manifest.Shards.Count);

        var committed = await store.ListManifestsAsync(jobId);
        foreach (var old in committed.Take(Math.Max(0, committed.Count - spec.KeepCheckpoints)))
            await store.DeleteCheckpointAsync(jobId, old.Step);
        await store.DeleteUncommittedAsync(jobId, new HashSet<long>());
        await Publish($"checkpoint at step {step} committed");
    }

    private async Task Finish(JobState state, string? error, ReplicaStages stages)
    {
        S.State = state;
        S.Error = error;
        await Save();
        await Publish(error);
        await ReleaseStages(stages);
        await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Release(this.GetPrimaryKeyString());
        await Registry.Remove(this.GetPrimaryKeyString());
        _keepAlive?.Dispose();
        _keepAlive = null;
        LogFinished(logger, this.GetPrimaryKeyString(), state, S.CompletedSteps, S.LossHistory.Count > 0 ? S.LossHistory[^1] : double.NaN);
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
            LastLoss = S.LossHistory.Count > 0 ? S.LossHistory[^1] : null,
            TokensPerSecond = _tokensPerSecond,
            Eta = eta,
            Placement = [.. S.Placement],
            LastCheckpointStep = S.LastCheckpointStep,
            Error = S.Error,
            UpdatedAt = S.UpdatedAt,
            HostSilo = silo.Name,
            Priority = spec?.Priority ?? 0,
            Team = spec?.Team ?? "default",
            Replicas = S.State is JobState.Running or JobState.Checkpointing or JobState.Recovering or JobState.Placing
                ? S.Placement.Select(p => p.Replica).Distinct().Count() : 0,
            MinReplicas = spec?.MinReplicas ?? 1,
            MaxReplicas = spec?.MaxReplicas ?? 1,
        };
    }

    private async Task Publish(string? message)
    {
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

    private async Task Save()
    {
        S.UpdatedAt = time.GetUtcNow();
        await persisted.WriteStateAsync();
    }

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

    [LoggerMessage(1, LogLevel.Information, "Job {JobId} submitted: {Steps} steps on {Stages} stages")]
    private static partial void LogSubmitted(ILogger logger, string jobId, int steps, int stages);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId}: checkpoint at step {Step} committed ({Shards} shards)")]
    private static partial void LogCommitted(ILogger logger, string jobId, long step, int shards);

    [LoggerMessage(3, LogLevel.Information, "Job {JobId} {State} after {Steps} steps, last loss {Loss}")]
    private static partial void LogFinished(ILogger logger, string jobId, JobState state, long steps, double loss);

    [LoggerMessage(4, LogLevel.Error, "Job {JobId} failed at step {Step}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string jobId, long step);

    [LoggerMessage(5, LogLevel.Warning, "Job {JobId}: releasing a stage failed")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(7, LogLevel.Warning, "Job {JobId} lost a step at {Step} (failure {Failures} without progress); recovering")]
    private static partial void LogRecovering(ILogger logger, Exception exception, string jobId, long step, int failures);

    [LoggerMessage(8, LogLevel.Warning, "Job {JobId}: a checkpoint in flight was not committed")]
    private static partial void LogCommitLost(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(9, LogLevel.Warning, "Job {JobId}: checkpoint at step {Step} rejected because of {Shard}: {Reason}")]
    private static partial void LogCheckpointRejected(ILogger logger, string jobId, long step, string shard, string reason);

    [LoggerMessage(10, LogLevel.Information, "Job {JobId}: an in-memory snapshot copy is unreachable")]
    private static partial void LogNoMemorySnapshot(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(11, LogLevel.Information, "Job {JobId} paused at step {Step}")]
    private static partial void LogPaused(ILogger logger, string jobId, long step);

    [LoggerMessage(12, LogLevel.Warning, "Job {JobId}: stages not moved ({Why}): {Reason}")]
    private static partial void LogMoveRefused(ILogger logger, string jobId, string why, string? reason);

    [LoggerMessage(13, LogLevel.Warning, "Job {JobId}: node {NodeId} is a straggler: {Reason}")]
    private static partial void LogStraggler(ILogger logger, string jobId, string nodeId, string reason);

    [LoggerMessage(14, LogLevel.Warning, "Job {JobId} preempted at step {Step}: {Reason}")]
    private static partial void LogPreempted(ILogger logger, string jobId, long step, string reason);

    [LoggerMessage(6, LogLevel.Debug, "Job {JobId}: progress could not be published")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string jobId);
}
