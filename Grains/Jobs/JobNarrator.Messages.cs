using Cluster.Grains.Interfaces.Events;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Every event and progress message of a job, built here and nowhere else: one method per event (its kind, step,
/// timings and text), one per progress line. The texts are what operators, the console and tests read: change them
/// only together with those. The step and epoch come from the job state the writer holds.
/// </summary>
internal sealed partial class JobNarrator
{
    private long Step => NarratedState.CompletedSteps;

    private long Epoch => NarratedState.Epoch;

    // Events, in the order a job meets them.

    public Task CancelRequested(string? reason, string? principal) =>
        Event(ClusterEventKind.JobCancelRequested, Step, 0, null, $"cancel requested at step {Step}{Because(reason)}", Trimmed(reason), principal);

    public Task Updated(IEnumerable<string> changes, string? reason, string? principal) =>
        Event(ClusterEventKind.JobUpdated, Step, 0, null, $"updated: {string.Join(", ", changes)}{Because(reason)}", Trimmed(reason), principal);

    public Task WaitingForCapacity(string reason, double? since) =>
        Event(ClusterEventKind.WaitingForCapacity, Step, 0, since, reason);

    /// <summary>
    /// The job's coordinator (an earlier activation, in <paramref name="lostEpoch"/>) was lost. Published once this
    /// activation's claim of the next epoch is durable, so of two activations that woke from the same state only the
    /// one that owns the job narrates it; stamped with the epoch it recovers from.
    /// </summary>
    public Task CoordinatorLost(long lostEpoch, double? since) =>
        Event(ClusterEventKind.JobRecovering, Step, 0, since, $"the job's coordinator was lost at step {Step} (epoch {lostEpoch}); recovering", inEpoch: lostEpoch);

    public Task Recovering(string reason, double? since) =>
        Event(ClusterEventKind.JobRecovering, Step, 0, since, RecoveringText(reason));

    public Task Replaced(int moved, int total, string where, double? since) =>
        Event(ClusterEventKind.JobReplaced, Step, 0, since, $"{moved} of {total} stage(s) moved: {where}");

    public Task ReplicasChanged(int before, int after, string why, int microBatchesPerReplica, int microBatches, double? since) =>
        Event(ClusterEventKind.ReplicasChanged, Step, 0, since,
            $"replicas {before} → {after} ({why}); each runs {microBatchesPerReplica} of the step's {microBatches} micro-batches");

    public Task CheckpointRejected(long step, string shard, string problem, double? since) =>
        Event(ClusterEventKind.CheckpointRejected, step, 0, since, $"checkpoint at step {step} rejected ({shard}): {ShortError.Line(problem)}");

    /// <summary>A placement an operator or the job asked for (a rewind, a move, a resume) is in place.</summary>
    public Task PlacedOnRequest(ClusterEventKind kind, string why, long lostSteps, double seconds, int moved, int total, string where, long? memoryStep, long? checkpointStep) =>
        Event(kind, Step, Math.Max(0, lostSteps), seconds,
            $"{why}: {moved} of {total} stage(s) moved ({where}); " +
            (memoryStep is not null ? $"live state of step {memoryStep}, no step lost"
             : checkpointStep is null ? "from the initial weights" : $"from the checkpoint at step {checkpointStep}"));

    public Task Restored(long lostSteps, double? since, long? memoryStep, long? checkpointStep, string? memorySnapshots) =>
        Event(ClusterEventKind.JobRestored, Step, lostSteps, since,
            (memoryStep is not null ? $"{RestoredFrom.Memory}{memoryStep}"
            : checkpointStep is null ? RestoredFrom.InitialWeights
            : $"{RestoredFrom.Checkpoint}{checkpointStep}") +
            (memorySnapshots is null ? "" : memoryStep is null ? $" ({RestoredFrom.SnapshotsHeld}{memorySnapshots})" : $" ({RestoredFrom.CopiesFound}{memorySnapshots})"));

    public Task Resumed(long lostSteps, double seconds) =>
        Event(ClusterEventKind.JobResumed, Step, lostSteps, seconds, $"first step after recovery done; {lostSteps} completed step(s) recomputed");

    public Task CheckpointCommittedOnRequest(long checkpointStep) =>
        Event(ClusterEventKind.CheckpointCreated, Step, 0, null, $"checkpoint at step {checkpointStep} committed on request");

    public Task StagesNotMoved(string why, string? refusal) =>
        Event(ClusterEventKind.StagesMoved, Step, 0, null, $"stages not moved ({why}): {refusal}");

    public Task Preempted(string why, long checkpointStep) =>
        Event(ClusterEventKind.JobPreempted, Step, 0, null, $"{why}: checkpoint at step {checkpointStep} committed, nodes freed; it resumes when capacity returns");

    public Task Paused() =>
        Event(ClusterEventKind.JobPaused, Step, 0, null,
            $"paused at step {Step} (checkpoint at step {NarratedState.LastCheckpointStep?.ToString() ?? "none"}); nodes freed");

    public Task WaitingForStorage(string reason) => Event(ClusterEventKind.WaitingForStorage, Step, 0, null, reason);

    public Task StorageReturned(double seconds) =>
        Event(ClusterEventKind.StorageReturned, Step, 0, seconds, $"storage is back: checkpoint at step {NarratedState.LastCheckpointStep} committed; training goes on");

    /// <summary>
    /// The event of a deleted job, built (not published: the job's state is gone by the time it goes out, and a purged
    /// job's event is not recorded).
    /// </summary>
    public ClusterEvent Deleted(Interfaces.Jobs.JobState state, bool purge, int deleted, int kept, string? reason, string? principal) =>
        new(Now, ClusterEventKind.JobDeleted, NarratedJob, null, Epoch, Step, 0, null,
            (purge ? $"deleted ({state}) with its {deleted} checkpoint(s) and history" : $"deleted ({state}); its {kept} checkpoint(s) kept") + Because(reason))
        {
            Reason = Trimmed(reason),
            Principal = principal,
        };

    // Progress lines and the texts events share with them.

    public string PlacingText(string? requestedBecause, bool recovering) =>
        requestedBecause is not null ? $"epoch {Epoch}: placing again ({requestedBecause})" : recovering ? $"epoch {Epoch}: re-placing" : "placing";

    public static string WaitingForCapacityText(string reason) => $"waiting for capacity: {reason}";

    public string RunningText(int moved, long lostSteps) => $"running from step {Step} (epoch {Epoch}; {moved} stage(s) moved; {lostSteps} step(s) to recompute)";

    public string RecoveringText(string reason) => $"failure at step {Step}: {reason}; recovering";

    public static string CheckpointingText(long step) => $"checkpointing step {step}";

    public static string CheckpointCommittedText(long step) => $"checkpoint at step {step} committed";

    public string PausedText() => $"paused at step {Step}";

    public string WaitingForStorageText(long durableStep, string problem) =>
        $"waiting for storage: step {Step} not durable (last durable checkpoint: step {durableStep}); {problem}; it resumes by itself";

    public string StorageBackText() => $"storage is back at step {Step}";

    /// <summary>An operator's reason, trimmed; null when blank.</summary>
    public static string? Trimmed(string? reason) => string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();

    /// <summary>An operator's reason as a message suffix: " (reason)", or nothing.</summary>
    public static string Because(string? reason) => Trimmed(reason) is { } r ? $" ({r})" : "";
}
