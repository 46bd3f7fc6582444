namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>
/// Why a restarted scheduler keeps a node out of placement: the node's heartbeat lists stages of
/// <see cref="JobIds"/>, jobs the job registry lists as unfinished that have not yet told the new scheduler what they
/// hold, so handing the node out could put two jobs on it. <see cref="Since"/>: when the scheduler started asking the
/// (first) job; <see cref="Until"/>: when the hold ends at the latest (<c>TrainingCluster:SchedulerSilentJobHold</c>
/// later). It ends sooner when the job answers, asks to be placed or releases, or its stages leave the node.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.NodeHold")]
public sealed record NodeHold(
    [property: Id(0)] IReadOnlyList<string> JobIds,
    [property: Id(1)] DateTimeOffset Since,
    [property: Id(2)] DateTimeOffset Until);
