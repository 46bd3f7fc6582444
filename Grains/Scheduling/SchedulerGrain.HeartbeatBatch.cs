using Cluster.Grains.Interfaces.Nodes;

namespace Cluster.Grains.Scheduling;

internal sealed partial class SchedulerGrain
{
    /// <summary>One message per silo instead of one per node: each heartbeat is recorded exactly as a single one is.</summary>
    public async Task<IReadOnlyList<string>> HeartbeatBatch(IReadOnlyList<NodeHealth> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        List<string>? unknown = null;
        foreach (var health in batch)
            if (!await Heartbeat(health))
                (unknown ??= []).Add(health.NodeId);
        return unknown ?? (IReadOnlyList<string>)[];
    }
}
