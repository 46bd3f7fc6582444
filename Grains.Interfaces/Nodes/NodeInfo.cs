namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>The scheduler's view of a node: what it offers, its latest heartbeat and what runs on it.</summary>
[GenerateSerializer, Immutable, Alias("cluster.NodeInfo")]
public sealed record NodeInfo(
    [property: Id(0)] NodeCapabilities Capabilities,
    [property: Id(1)] NodeHealth? Health,
    [property: Id(2)] DateTimeOffset? LastHeartbeatAt,
    [property: Id(3)] IReadOnlyList<string> Stages);
