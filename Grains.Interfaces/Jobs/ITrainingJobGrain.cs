using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// One training job, key = job id. Validates its spec, places its stages through the scheduler, drives every step,
/// checkpoints, and publishes progress on <see cref="JobStreams"/>. Its state survives the loss of a silo.
/// </summary>
[Alias("cluster.ITrainingJobGrain")]
public interface ITrainingJobGrain : IGrainWithStringKey
{
    /// <summary>Validates and starts the job; throws <see cref="JobSpecInvalidException"/> listing every problem.</summary>
    [Alias("Submit"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> Submit(JobSpec spec);

    [Alias("GetStatus"), OperatorFacing(OperatorRole.Viewer, Scope = OperatorScope.Job)]
    Task<JobStatus> GetStatus();

    /// <summary>
    /// Supervision, called by the silos' job watchdog: starts the job's driver loop again when it stopped without the
    /// job reaching a terminal state. True when it had to.
    /// </summary>
    [Alias("EnsureRunning")]
    Task<bool> EnsureRunning();

    /// <summary>
    /// Silo-internal, called by a silo that shuts down (after its stages were drained): when this job's coordinator runs
    /// on that silo (<paramref name="siloAddress"/>, parsable), it hands the job over at its next step boundary and
    /// drives it no more; the job's next activation, on a silo that stays, carries on from live state. True once handed
    /// over; false when the coordinator runs elsewhere or drives nothing now.
    /// </summary>
    [Alias("HandOverForShutdown")]
    Task<bool> HandOverForShutdown(string siloAddress);

    [Alias("GetSpec"), OperatorFacing(OperatorRole.Viewer, Scope = OperatorScope.Job)]
    Task<JobSpec?> GetSpec();

    /// <summary>Loss of every completed step, in order.</summary>
    [Alias("GetLossHistory"), OperatorFacing(OperatorRole.Viewer, Scope = OperatorScope.Job)]
    Task<IReadOnlyList<double>> GetLossHistory();

    /// <summary>The scheduler's word that nodes this job may use are gone: the step in flight is abandoned and the job recovers.</summary>
    [Alias("NodesLost")]
    Task NodesLost(IReadOnlyList<string> nodeIds, string reason);

    [Alias("Cancel"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> Cancel();

    /// <summary>Time split of recent steps (kept in memory, for benchmarks and diagnosis).</summary>
    [Alias("GetStepTimings"), OperatorFacing(OperatorRole.Viewer, Scope = OperatorScope.Job)]
    Task<IReadOnlyList<StepTiming>> GetStepTimings();

    /// <summary>Committed checkpoints, oldest first.</summary>
    [Alias("ListCheckpoints"), OperatorFacing(OperatorRole.Viewer, Scope = OperatorScope.Job)]
    Task<IReadOnlyList<CheckpointManifest>> ListCheckpoints();

    /// <summary>
    /// At the next step boundary: commits a checkpoint, frees the job's nodes and waits in <see cref="JobState.Paused"/>.
    /// Returns once paused (or at once if the job is not running).
    /// </summary>
    [Alias("Pause"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> Pause();

    /// <summary>Places the paused job again and carries on from the checkpoint it took when pausing.</summary>
    [Alias("Resume"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> Resume();

    /// <summary>Commits a durable checkpoint at the next step boundary and returns its manifest once committed.</summary>
    [Alias("CheckpointNow"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<CheckpointManifest> CheckpointNow();

    /// <summary>
    /// Moves the job's stages off the given nodes at the next step boundary, from their live state (no rollback): used
    /// for drains and stragglers. Returns at once.
    /// </summary>
    [Alias("MoveStagesOff")]
    Task MoveStagesOff(IReadOnlyList<string> nodeIds, string reason);

    /// <summary>
    /// Rewinds the job to the committed checkpoint at <paramref name="step"/> (later losses are dropped and the steps
    /// run again); a step with no committed checkpoint is refused with the list of those that exist. Step 0 restarts from
    /// the initial weights (every trained step is lost): from a client it needs the admin role. Returns once the rewind is
    /// applied; for a paused job, or one waiting for capacity, at once (it is applied when the job is placed again).
    /// </summary>
    [Alias("RestoreCheckpoint"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> RestoreCheckpoint(long step);

    /// <summary>
    /// The scheduler needs this job's nodes for a higher-priority one: at the next step boundary the job commits a
    /// checkpoint, frees its nodes and waits for capacity again, resuming from that checkpoint by itself. Returns at once.
    /// </summary>
    [Alias("Preempt")]
    Task Preempt(string reason);

    /// <summary>
    /// The scheduler needs nodes for another job: at the next step boundary this elastic job drops to
    /// <paramref name="replicas"/> data-parallel replicas (not below its minimum), from live state — nothing recomputed,
    /// the trajectory unchanged — and grows again when nodes are free. Returns at once.
    /// </summary>
    [Alias("ShrinkReplicas")]
    Task ShrinkReplicas(int replicas, string reason);

    /// <summary><see cref="Cancel()"/>, recording why in the job's history (<see cref="Events.ClusterEvent.Reason"/>).</summary>
    [Alias("CancelWithReason"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> Cancel(string? reason);

    /// <summary><see cref="Pause()"/>, recording why in the job's history (<see cref="Events.ClusterEvent.Reason"/>).</summary>
    [Alias("PauseWithReason"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> Pause(string? reason);

    /// <summary>
    /// Changes the job's priority (the scheduler orders its queue and preemption by it at once) and/or its replica maximum
    /// (bounds growth; a job running more replicas shrinks to it at the next step boundary), persisted with the spec. A
    /// value that the spec's rules refuse throws <see cref="JobSpecInvalidException"/> naming the fix; a finished job
    /// cannot be updated.
    /// </summary>
    [Alias("Update"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobStatus> Update(JobUpdate update);

    /// <summary>
    /// Deletes a finished (Completed, Failed or Cancelled) job: its state, and its entry in the job registry; with
    /// <paramref name="purge"/> its committed checkpoints and its event history too. A job that has not finished is
    /// refused (cancel it first). Its id may then be submitted again.
    /// </summary>
    [Alias("Delete"), OperatorFacing(OperatorRole.Operator, Scope = OperatorScope.Job)]
    Task<JobDeletion> Delete(bool purge, string? reason);

    /// <summary>
    /// Up to <paramref name="limit"/> losses of the job's current trajectory from step <paramref name="fromStep"/> (steps
    /// count from 1), for paging through the whole history without moving it in one message.
    /// </summary>
    [Alias("GetLosses"), OperatorFacing(OperatorRole.Viewer, Scope = OperatorScope.Job)]
    Task<LossPage> GetLosses(long fromStep, int limit);
}
