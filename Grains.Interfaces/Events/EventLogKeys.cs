namespace Cluster.Grains.Interfaces.Events;

/// <summary>Keys of <see cref="IJobEventLogGrain"/> that are not a job's id.</summary>
public static class EventLogKeys
{
    /// <summary>
    /// The cluster's own history: every event about a node (cordon, uncordon, drain, node lost, recovered or joined,
    /// straggler flagged) — events with no job, and events that name a node. Not a valid job id (a job id never starts
    /// with '@'), so no job's history can share it.
    /// </summary>
    public const string Cluster = "@cluster";

    /// <summary>Whether <paramref name="e"/> goes into the <see cref="Cluster"/> history (besides its job's, if it has one).</summary>
    public static bool InClusterHistory(ClusterEvent e) => e.JobId is null || e.NodeId is not null;
}
