namespace Cluster.Grains.Scheduling;

/// <summary>
/// The settings a scheduling decision depends on: one job per node (<paramref name="ExclusiveNodes"/>), how long a
/// node may be silent (<paramref name="NodeTimeout"/>), how long a job asked to shrink or to be preempted has to free
/// its nodes (<paramref name="ReleaseTimeout"/>), how long a waiting job that stopped asking stays queued
/// (<paramref name="WaitingExpiry"/>) and how long, at most, a restarted scheduler holds back the nodes of a job that
/// has not reported (<paramref name="SilentJobHold"/>).
/// </summary>
/// <param name="SilentJobHold">
/// How long, at most, a node that reports stages of a job the restarted scheduler has not heard from is kept out of
/// placement (see <see cref="SchedulerTable.Unreported"/>), from when the scheduler started asking the job. A bound, not
/// the usual end: the job answering, asking to be placed or releasing ends it, and so does its stages leaving the node
/// (an idle stage grain is collected). Long: handing out a node a live job runs on puts two jobs on one GPU. This
/// record is the one place the scheduler reads it from; its value comes from
/// <see cref="Hosting.TrainingClusterOptions.SchedulerSilentJobHold"/> (validated there), never from a default here.
/// </param>
internal sealed record SchedulerRules(bool ExclusiveNodes, TimeSpan NodeTimeout, TimeSpan ReleaseTimeout, TimeSpan WaitingExpiry, TimeSpan SilentJobHold);
