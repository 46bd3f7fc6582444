using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Kernels.Model;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Commits a job's durable checkpoints, off the training path. Invariants it owns:
/// <list type="bullet">
/// <item>At most one commit is in flight; a checkpoint that comes due while one is still in flight is skipped (the
/// next one covers it), so a hung store never holds training up.</item>
/// <item>A commit that failed (shard write, manifest, store unreachable) never fails the job: durability is deferred
/// and the checkpoint is retaken at a step boundary once a capped exponential back-off with jitter has passed
/// (<see cref="RetryDue"/>).</item>
/// <item>Fenced: every shard set and manifest is written in this activation's epoch, into a shard set of its own
/// (<see cref="ICheckpointStore"/>), so a stale activation after a false death declaration never writes into, commits
/// over or deletes the live one's checkpoint in progress. An epoch has one owner: an activation claims it in job state
/// (<see cref="JobStateWriter.ClaimEpoch"/>) durably before any stage or store sees it, and of two activations that
/// take the same epoch at once the one whose claim lost stops there.</item>
/// <item>Retention deletes only committed checkpoints beyond the <c>KeepCheckpoints</c> newest — ordered by epoch, then
/// step, so a rewound or restarted timeline's new low-step checkpoints are never taken for old ones — and never the one
/// just committed; it deletes each by its manifest, so only that checkpoint's own shard set goes. Cleanup deletes only
/// uncommitted shard sets older, in (epoch, step) order, than the checkpoint just committed: this epoch's abandoned
/// ones and dead or stale epochs' leftovers — never a newer epoch's checkpoint in progress, never a manifest's
/// shards.</item>
/// </list>
/// </summary>
internal sealed partial class CheckpointCoordinator(string jobId, ICheckpointStore store, IGrainFactory grains, TimeProvider time,
    JobCoordinatorOptions options, ILogger logger)
{
    private Task<CheckpointManifest>? _commit;
    private long _commitStep = -1;
    private int _failures;
    private DateTimeOffset _retryAt;

    /// <summary>Where checkpoints go (for messages).</summary>
    public string StoreDescription => store.Description;

    /// <summary>A commit has not finished yet.</summary>
    public bool InFlight => _commit is { IsCompleted: false };

    /// <summary>The step of the commit in flight or finished but not collected, or -1.</summary>
    public long PendingStep => _commit is null ? -1 : _commitStep;

    /// <summary>The commit in flight (completes, never faults, when it ends), for waits that should wake on it.</summary>
    public Task Settled => _commit is null ? Task.CompletedTask : _commit.ContinueWith(_ => { }, TaskScheduler.Current);

    /// <summary>A commit failed and its back-off has passed: take a checkpoint again at this step boundary.</summary>
    public bool RetryDue => _failures > 0 && _commit is null && time.GetUtcNow() >= _retryAt;

    /// <summary>Why the latest commit failed (one line), or null once one commits.</summary>
    public string? Problem { get; private set; }

    /// <summary>Starts committing the durable snapshots of <paramref name="step"/> (the caller has taken them). Call only when no commit is pending.</summary>
    /// <param name="losses">The step's losses since the job's last sealed loss chunk, and the hash of its whole history (<see cref="JobStateWriter.LossesForCheckpoint"/>).</param>
    public void Begin(JobSpec spec, long epoch, long step, CheckpointLossSlice losses)
    {
        if (_commit is not null) throw new InvalidOperationException($"Job {jobId}: a checkpoint commit (step {_commitStep}) is still pending.");
        _commitStep = step;
        _commit = Commit(spec, epoch, step, losses);
    }

    /// <summary>The commit that finished since the last call: its manifest when it committed; null when none finished or it failed (then deferred).</summary>
    public CheckpointManifest? Collect()
    {
        if (_commit is not { IsCompleted: true } done) return null;
        _commit = null;
        if (done.IsCompletedSuccessfully) return Succeeded(done.Result);
        Failed(_commitStep, done.Exception!.GetBaseException());
        return null;
    }

    /// <summary>Waits for the pending commit: its manifest, or null when none is pending; <see cref="StorageUnavailableException"/> when it failed.</summary>
    public async Task<CheckpointManifest?> Wait()
    {
        if (_commit is not { } commit) return null;
        try
        {
            return Succeeded(await commit);
        }
        catch (Exception e)
        {
            Failed(_commitStep, e);
            throw new StorageUnavailableException($"checkpoint at step {_commitStep} not committed: {ShortError.Of(e)}", e);
        }
        finally
        {
            _commit = null;
        }
    }

    /// <summary>Waits for the pending commit, its failure only deferring durability (before stages move or restart).</summary>
    public async Task<CheckpointManifest?> Drain()
    {
        try
        {
            return await Wait();
        }
        catch (StorageUnavailableException)
        {
            return null;
        }
    }

    private CheckpointManifest Succeeded(CheckpointManifest manifest)
    {
        _failures = 0;
        Problem = null;
        return manifest;
    }

    private void Failed(long step, Exception e)
    {
        _failures++;
        _retryAt = time.GetUtcNow() + Backoff.Delay(_failures, options.StorageRetryDelay, options.StorageRetryMaxDelay);
        Problem = $"checkpoint at step {step} not committed ({store.Description}): {ShortError.Of(e)}";
        LogCommitFailed(logger, e, jobId, step, _failures);
    }

    private async Task<CheckpointManifest> Commit(JobSpec spec, long epoch, long step, CheckpointLossSlice losses)
    {
        using var activity = Telemetry.TrainingActivities.CheckpointCommit(jobId, epoch, step);
        long started = time.GetTimestamp();
        var plan = JobSpecs.PlanOf(spec);
        var shards = await Task.WhenAll(Enumerable.Range(0, plan.StageCount)
            .Select(s => grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, s)).WaitDurable(epoch, step)));
        // The step losses since the job's last sealed loss chunk go into a file of the shard set, the manifest only names
        // it: what a checkpoint writes stays O(1) in the step count (CheckpointLosses).
        var lossLog = await CheckpointLosses.WriteAsync(store, jobId, epoch, step, losses);
        var manifest = ManifestOf(jobId, spec, plan, epoch, step, time.GetUtcNow(), [.. shards.SelectMany(s => s)], losses.StepLoss, lossLog);
        await store.CommitManifestAsync(manifest);
        Hosting.TrainingMetrics.CheckpointCommitted(jobId, time.GetElapsedTime(started));
        LogCommitted(logger, jobId, step, manifest.Shards.Count);
        await Retain(manifest, spec.KeepCheckpoints);
        return manifest;
    }

    /// <summary>
    /// The manifest of a checkpoint: O(1) in the step count — the step's loss and a reference to the checkpoint's loss
    /// file (<see cref="CheckpointLosses"/>), never the loss history itself.
    /// </summary>
    internal static CheckpointManifest ManifestOf(string jobId, JobSpec spec, StagePlan plan, long epoch, long step, DateTimeOffset createdAt,
        IReadOnlyList<ShardRecord> shards, double? stepLoss, LossLogRecord? lossLog) => new()
    {
        JobId = jobId,
        Step = step,
        Epoch = epoch,
        CreatedAt = createdAt,
        Model = spec.Model,
        UnitsPerStage = [.. plan.UnitsPerStage],
        Shards = shards,
        DataSource = spec.DataSource,
        DataSeed = spec.DataSeed,
        MicroBatches = spec.MicroBatches,
        MicroBatchSize = spec.MicroBatchSize,
        Loss = step > 0 ? stepLoss : null,
        LossLog = lossLog,
    };

    /// <summary>Retention and cleanup after a commit; a failure here costs disk space for a while, never the commit.</summary>
    private async Task Retain(CheckpointManifest committed, int keep)
    {
        try
        {
            var all = await store.ListManifestsAsync(jobId);
            var newestFirst = all.OrderByDescending(m => m.Epoch).ThenByDescending(m => m.Step).ToArray();
            foreach (var old in newestFirst.Skip(Math.Max(1, keep)).Where(m => m.Step != committed.Step || m.Epoch != committed.Epoch))
                await store.DeleteCheckpointAsync(old);
            await store.DeleteUncommittedAsync(jobId, committed.Epoch, committed.Step);
        }
        catch (Exception e)
        {
            LogRetentionFailed(logger, e, jobId);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Job {JobId}: checkpoint at step {Step} committed ({Shards} shards)")]
    private static partial void LogCommitted(ILogger logger, string jobId, long step, int shards);

    [LoggerMessage(2, LogLevel.Warning, "Job {JobId}: checkpoint at step {Step} not committed ({Failures} in a row); training goes on, the checkpoint is retaken after a back-off")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string jobId, long step, int failures);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId}: retention or cleanup of old checkpoints failed; retried after the next commit")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception, string jobId);
}
