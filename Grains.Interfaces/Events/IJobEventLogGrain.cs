using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Interfaces.Events;

/// <summary>
/// The recorded history of one job (key = job id): every <see cref="ClusterEvent"/> published with its job id, in
/// arrival order, numbered from 1. The same log keyed <see cref="EventLogKeys.Cluster"/> records the cluster's node
/// events (cordons, drains, nodes lost and joined: most have no job). Persisted in chunks and bounded: once more than its capacity is recorded, the oldest
/// chunk is dropped (<see cref="JobEventPage.Dropped"/> counts what went).
/// </summary>
[Alias("cluster.IJobEventLogGrain")]
public interface IJobEventLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records one event: returns once it is numbered and in memory; storage is written in the background, so a
    /// publisher never waits on the log's storage.
    /// </summary>
    [Alias("Append")]
    Task Append(ClusterEvent e);

    /// <summary>One page of the history, oldest first; see <see cref="JobEventQuery"/>.</summary>
    [Alias("GetPage"), OperatorFacing(OperatorRole.Viewer)]
    Task<JobEventPage> GetPage(JobEventQuery query);

    /// <summary>Deletes the whole history (a purged job).</summary>
    [Alias("Clear")]
    Task Clear();
}
