namespace Cluster.Grains.Scheduling;

/// <summary>
/// The settings a scheduling decision depends on: one job per node (<paramref name="ExclusiveNodes"/>), how long a
/// node may be silent (<paramref name="NodeTimeout"/>), how long a job asked to shrink or to be preempted has to free
/// its nodes (<paramref name="ReleaseTimeout"/>) and how long a waiting job that stopped asking stays queued
/// (<paramref name="WaitingExpiry"/>).
/// </summary>
internal sealed record SchedulerRules(bool ExclusiveNodes, TimeSpan NodeTimeout, TimeSpan ReleaseTimeout, TimeSpan WaitingExpiry);
