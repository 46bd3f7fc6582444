using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Security;
using Cluster.Kernels.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Drives one training job: validate → place (through the scheduler) → configure stages → train step by step →
/// checkpoint (snapshots off the training path, manifest committed once every shard is durable) → complete. The loss
/// of a step is the canonical mean of its micro-batch losses; the clip coefficient comes from per-parameter squared
/// norms summed in global order — so the trajectory is bit-identical to the reference trainer.
/// Layout, one owner per invariant: this file is the Orleans surface (interface methods post requests to the
/// <see cref="BoundaryMailbox"/>, activation, supervision, status projection); the driver loop over the closed set of
/// <see cref="JobPhase"/>s is in <c>.Loop.cs</c>, the one transition function in <c>.Transitions.cs</c>, serving
/// requests at a step boundary in <c>.Boundary.cs</c>, placement and the restore planner in <c>.Placement.cs</c>, one
/// step (no persistence, no events) in <c>.Step.cs</c>, snapshots and checkpoints in <c>.Checkpoints.cs</c>.
/// Persistence: <see cref="JobStateWriter"/>; commits and retention: <see cref="CheckpointCoordinator"/>; failures:
/// <see cref="RecoveryPolicy"/>; events and progress: <see cref="JobNarrator"/>.
/// </summary>
[Reentrant]
internal sealed partial class TrainingJobGrain(
    ICheckpointStore store,
    TokenSourceCache corpora,
    LocalCoordinators coordinators,
    ILocalSiloDetails silo,
    IOptions<TrainingClusterOptions> options,
    IOptions<JobCoordinatorOptions> coordinatorOptions,
    TimeProvider time,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain, IKnowJobTeams
{
    private const int TimingsKept = 200;
    private readonly JobCoordinatorOptions _options = coordinatorOptions.Value;
    private readonly BoundaryMailbox _mailbox = new();
    private readonly List<StepTiming> _timings = [];
    private JobStateWriter _writer = null!;
    private CheckpointCoordinator _checkpoints = null!;
    private JobNarrator _narrator = null!;
    private JobSchedulerCalls _scheduler = null!;
    private RecoveryPolicy _policy = null!;
    private IServiceProvider _services = null!; // this activation's: disposed once its silo stopped (ActivationLoss)
    private Task? _loop;
    private IGrainTimer? _keepAlive;
    private double _tokensPerSecond;
    private double _secondsPerStep;
    private TaskCompletionSource<string> _abort = NewAbort();
    private (DateTimeOffset At, long StepsBefore)? _recovering; // since when, from which step: for JobResumed's timings
    private long? _coordinatorLostIn; // the epoch of a lost coordinator this activation took over, until narrated
    private ReplicaStages _placed = ReplicaStages.None; // the stages of the latest placement (released when the job ends)
    private readonly Telemetry.RecoveryTrace _recoveryTrace = new(); // the recovery as one trace, from the events the narrator publishes
    private readonly StepWatchdog _watchdog = new(time, options.Value.StepWatchdogFactor, options.Value.StepWatchdogFloor,
        warmupSteps: options.Value.DeviceHangWarmupSteps, warmupBound: options.Value.StepWatchdogWarmupBound);
    private long _lastSnapshotStep = -1;
    private string? _memorySnapshots; // what the last recovery found in memory, for its event
    private (Task<JobDeletion> Done, bool Purges)? _deletion; // the deletion under way or done, and whether it purges (see Delete)
    private string? _capacityReasonShape; // the last reason for waiting for capacity the history recorded (ReasonShape)
    private StragglerDetector? _stragglers;
    private DateTimeOffset _lastGrowthCheck;
    private double[] _stageCosts = []; // planned cost per stage of every replica (rank by rank), for the straggler detector

    private JobGrainState S => _writer.State;

    string? IKnowJobTeams.TeamOf(string jobId) => jobId == this.GetPrimaryKeyString() ? S.Spec?.Team : null;

    private IJobRegistryGrain Registry => GrainFactory.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default);

    /// <summary>Asks the scheduler for advice (<see cref="JobSchedulerCalls.Advice{T}"/>): none, logged, when it cannot answer now.</summary>
    private Task<T?> SchedulerAdvice<T>(string question, Func<ISchedulerGrain, Task<T>> call) =>
        _scheduler.Advice(call, e => ActivationLoss.Is(e, _services), e => LogNoAdvice(logger, e, this.GetPrimaryKeyString(), question, ShortError.Of(e)));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var problems = _options.Validate();
        if (problems.Count > 0)
            throw new InvalidOperationException($"{nameof(JobCoordinatorOptions)} are invalid: {string.Join(" ", problems)}");
        string jobId = this.GetPrimaryKeyString();
        _services = ServiceProvider;
        _scheduler = new JobSchedulerCalls(GrainFactory, time);
        _writer = new JobStateWriter(ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Jobs), this.GetGrainId(), time, _options, logger);
        await _writer.ReadAsync();
        _checkpoints = new CheckpointCoordinator(jobId, store, GrainFactory, time, _options, logger);
        _narrator = new JobNarrator(this, jobId, _writer, time, logger, e => _recoveryTrace.Observe(WithOperatorReason(e)));
        _policy = new RecoveryPolicy(_options, time);
        if (S.Spec is not null && !S.State.IsTerminal())
        {
            // The coordinator before this one handed the job over (its silo shut down): carry on from live state.
            // Else the silo that ran this job went away: carry on from persisted state, narrated like any other
            // recovery (its timings counted from the last saved update, the closest this activation knows to the failure).
            _takingOver = HandOverToTake();
            if (_takingOver is null && S.Epoch > 0 && S.State is not JobState.Paused)
                _recovering = (S.UpdatedAt, S.CompletedSteps);
            StartLoop();
        }
        coordinators.Add(jobId); // once activated: an activation that failed to is never deactivated, and would stay listed
    }

    /// <summary>
    /// Supervision (called by every silo's watchdog): a loop that stopped without reaching a terminal state is started
    /// again. Invariant: an unfinished job of a non-fenced activation always has a running loop — except on a silo that
    /// is leaving the cluster (<see cref="ActivationLoss.SiloLeaving"/>), whose loop stopped at its first failure so that
    /// the job's next activation, on a silo that stays, recovers it: that activation is sent away instead, and the next
    /// call (this watchdog's, at the latest) starts the job elsewhere — and except on an activation that handed the job
    /// over (<c>.HandOver.cs</c>), which waits for its silo to deactivate it.
    /// </summary>
    public Task<bool> EnsureRunning()
    {
        if (S.Spec is null || S.State.IsTerminal() || _writer.Fenced is not null || _handedOver || _loop is { IsCompleted: false })
            return Task.FromResult(false);
        if (ActivationLoss.SiloLeaving(_services))
        {
            DeactivateOnIdle();
            return Task.FromResult(false);
        }
        StartLoop();
        return Task.FromResult(true);
    }

    public async Task<JobStatus> Submit(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string jobId = this.GetPrimaryKeyString();
        if (_deletion is { Done.IsCompleted: false })
            throw new InvalidOperationException($"Job '{jobId}' is being deleted: submit again once the deletion has finished (a new job then takes the id).");
        if (S.Spec is not null)
        {
            if (JobSpecs.SameSubmission(S.Spec, spec))
                return Status(); // the same submission again (a retry): idempotent
            throw new JobSpecInvalidException([$"jobId: job '{jobId}' already exists ({S.State}); choose another id."]);
        }
        var problems = JobSpecs.Validate(spec, jobId, corpora.ProblemWith);
        if (problems.Count > 0)
            throw new JobSpecInvalidException(problems);
        // The job records which bytes it trains on (path@sha256:…, this silo's copy): every stage then refuses a copy
        // that differs, naming both hashes, and every manifest carries the content's identity, not only its path.
        if (spec.DataSource != TokenSources.Synthetic)
            spec = spec with { DataSource = corpora.Pin(spec.DataSource) };

        S.Spec = spec;
        S.SubmittedAt = time.GetUtcNow();
        try
        {
            await Transition(JobState.Pending, null, Persist.Durable, null, publish: false);
        }
        catch (JobFencedException)
        {
            DeactivateOnIdle(); // another activation submitted this id first (a split directory): a retry reads its job
            throw new InvalidOperationException($"Job '{jobId}' was submitted at the same moment by another request, which won: submit again (the same spec is then accepted as that job, a different one refused as a duplicate id).");
        }
        await Registry.Add(jobId);
        LogSubmitted(logger, jobId, spec.Steps, spec.Stages);
        StartLoop();
        return Status();
    }

    public Task<JobStatus> GetStatus() => Task.FromResult(Status());

    public Task<JobSpec?> GetSpec() => Task.FromResult(S.Spec);

    public Task<IReadOnlyList<double>> GetLossHistory() => Task.FromResult<IReadOnlyList<double>>(_writer.Losses.ToArray());

    public Task<IReadOnlyList<StepTiming>> GetStepTimings() => Task.FromResult<IReadOnlyList<StepTiming>>(_timings.ToArray());

    /// <summary>
    /// The scheduler tells the job once per loss, so the notice is kept whatever the job is doing: a step, a storage
    /// wait or the configuration of a new placement ends on it (a node of the new placement lost while its stages are
    /// configured; see <c>ConfigureStage</c>). The placement resets it when it names its nodes
    /// (<c>ConfigureAndRestore</c>): a node of the placement it replaces no longer matters.
    /// </summary>
    public Task NodesLost(IReadOnlyList<string> nodeIds, string reason)
    {
        var mine = nodeIds.Where(n => S.Placement.Any(p => p.NodeId == n)).ToArray();
        if (mine.Length > 0 && !S.State.IsTerminal())
            _abort.TrySetResult($"node {string.Join(", ", mine)} lost: {reason}");
        return Task.CompletedTask;
    }

    public async Task<JobStatus> Cancel()
    {
        if (S.Spec is null || S.State.IsTerminal()) return Status();
        _mailbox.RequestCancel();
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
        if (S.State.IsTerminal() || StaysPaused) return Status();
        var paused = _mailbox.RequestPause();
        StartLoop();
        return await paused;
    }

    public Task<JobStatus> Resume()
    {
        RequireSubmitted();
        if (_mailbox.Resume(Status(), paused: S.State == JobState.Paused)) _askedBy[ClusterEventKind.JobUnpaused] = OperatorCalls.CurrentPrincipal;
        if (S.State == JobState.Paused) StartLoop();
        return Task.FromResult(Status());
    }

    public async Task<CheckpointManifest> CheckpointNow()
    {
        RequireSubmitted();
        // Read before any await: the loop may move on while the store is listed.
        var state = S.State;
        long completed = S.CompletedSteps;
        if (state.IsTerminal() || StaysPaused)
        {
            var committed = await store.ListManifestsAsync(this.GetPrimaryKeyString());
            if (state == JobState.Paused && committed.Count > 0 && committed[^1].Step == completed)
                return committed[^1]; // pausing committed one at the step it stopped
            throw new InvalidOperationException(
                $"Job {this.GetPrimaryKeyString()} is {state}: no checkpoint can be taken now. Its newest committed checkpoint is " +
                (committed.Count > 0 ? $"step {committed[^1].Step}." : "none."));
        }
        _askedBy[ClusterEventKind.CheckpointCreated] = OperatorCalls.CurrentPrincipal;
        return await _mailbox.RequestCheckpoint();
    }

    public Task MoveStagesOff(IReadOnlyList<string> nodeIds, string reason)
    {
        foreach (string node in nodeIds.Where(n => S.Placement.Any(p => p.NodeId == n)))
            _mailbox.RequestMove(node, reason);
        return Task.CompletedTask;
    }

    public async Task<JobStatus> RestoreCheckpoint(long step)
    {
        RequireSubmitted();
        string jobId = this.GetPrimaryKeyString();
        // Restarting from the initial weights throws away every trained step: an admin's decision (the filter checked operator).
        if (step == 0) OperatorCalls.Require(OperatorRole.Admin, $"restore job {jobId} from its initial weights");
        RequireNotFinished(jobId);
        // Step 0: the initial weights — the explicit operator action that a job with lost checkpoints waits for.
        var committed = step == 0 ? [] : await store.ListManifestsAsync(jobId);
        RequireNotFinished(jobId); // again: the job may have finished while the store was listed
        var manifest = step == 0 ? null : committed.LastOrDefault(m => m.Step == step) // the newest epoch's, when two activations committed one step
            ?? throw new ArgumentException($"Job {jobId} has no committed checkpoint at step {step}. Committed: " +
                (committed.Count == 0 ? "none." : string.Join(", ", committed.Select(m => m.Step)) + "."), nameof(step));
        _askedBy[ClusterEventKind.JobRewound] = OperatorCalls.CurrentPrincipal;
        var done = _mailbox.RequestRewind(manifest, step);
        if (StaysPaused || S.State == JobState.WaitingForCapacity)
            return Status(); // applied when the job resumes, or once it has nodes again: the caller need not wait for either
        StartLoop();
        return await done;
    }

    public Task Preempt(string reason)
    {
        if (S.Spec is not null && S.State is JobState.Running or JobState.Checkpointing or JobState.Placing or JobState.Recovering)
            _mailbox.RequestPreempt(reason);
        return Task.CompletedTask;
    }

    public Task ShrinkReplicas(int replicas, string reason)
    {
        if (S.Spec is not null && S.State is JobState.Running or JobState.Checkpointing && replicas >= 1)
            _mailbox.RequestShrink(replicas, reason);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Paused, and no resume granted yet. A paused job whose resume was granted counts as running for every request,
    /// though its loop may not have left Paused yet: a pause, a checkpoint or a rewind asked in that window is served
    /// once it runs again, not answered as if it were still paused.
    /// </summary>
    private bool StaysPaused => S.State == JobState.Paused && !_mailbox.ResumeGranted;

    private void RequireNotFinished(string jobId)
    {
        if (S.State.IsTerminal())
            throw new InvalidOperationException($"Job {jobId} is {S.State}; a finished job cannot be rewound. Submit a new job instead.");
    }

    private void RequireSubmitted()
    {
        if (S.Spec is null)
            throw new InvalidOperationException($"Job '{this.GetPrimaryKeyString()}' does not exist: submit it first (list jobs to see the ids that do).");
    }

    /// <summary>
    /// Starts the driver loop unless one runs. Invariants: a finished job never gets a loop again (it would place anew);
    /// nor does an activation that handed the job over — a request that needs its loop fails with "ask again".
    /// </summary>
    private void StartLoop()
    {
        if (_loop is { IsCompleted: false } || S.State.IsTerminal()) return;
        if (_handedOver) throw new InvalidOperationException(MovedAskAgain); // this activation drives the job no more (.HandOver.cs)
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

    private double? Since() => _recovering is { } r ? (time.GetUtcNow() - r.At).TotalSeconds : null;

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
            Error = S.Error ?? (S.State.IsTerminal() ? null : _writer.Problem ?? _checkpoints.Problem),
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

    private Task Publish(string? message) => _narrator.Progress(Status(), message);
}
