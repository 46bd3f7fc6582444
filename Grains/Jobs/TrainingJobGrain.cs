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
using Cluster.Kernels.Data;
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
/// Layout: this file is the Orleans surface (requests, activation, supervision, status projection); the driver loop and
/// its phases are in <c>.Loop.cs</c>, step-boundary requests in <c>.Boundary.cs</c>, placement and the restore planner
/// in <c>.Placement.cs</c>, one training step in <c>.Step.cs</c>, snapshots and checkpoints in <c>.Checkpoints.cs</c>.
/// Persistence has one owner (<see cref="JobStateWriter"/>), and so have commits and retention
/// (<see cref="CheckpointCoordinator"/>).
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
    private string? _memorySnapshots; // what the last recovery found in memory, for its event
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
            if (SameSubmission(S.Spec, spec))
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

    private double? Since() => _recovery is { } r ? (time.GetUtcNow() - r.At).TotalSeconds : null;

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

    private Task NarrateEvent(ClusterEvent e) => _writer.Fenced is null ? this.Publish(WithOperatorReason(e)) : Task.CompletedTask;

    /// <summary>A retried submission: equal, apart from the pin this job added to an unpinned data source.</summary>
    private static bool SameSubmission(JobSpec stored, JobSpec submitted)
    {
        if (DataSourceReference.Parse(submitted.DataSource).Sha256 is null)
            stored = stored with { DataSource = DataSourceReference.Parse(stored.DataSource).Path };
        return stored == submitted || (stored with { LayersPerStage = null } == submitted with { LayersPerStage = null }
            && (stored.LayersPerStage ?? []).SequenceEqual(submitted.LayersPerStage ?? []));
    }

    private static bool IsTerminal(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled;
}
