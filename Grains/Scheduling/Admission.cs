namespace Cluster.Grains.Scheduling;

/// <summary>
/// A decision of <see cref="SchedulerTable.Decide"/>, not applied yet: the choice, the table row it would write
/// (null: a refusal, which writes no row), the job's queue entry when it waits, and the requests to send other jobs
/// (shrink or preempt) once applied.
/// </summary>
internal sealed record Admission(string JobId, PlacementChoice Choice, JobNodes? Placement, WaitingJob? Waiting, IReadOnlyList<PendingRelease> Requests);
