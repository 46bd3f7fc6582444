namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>The node of each pipeline stage of one data-parallel replica (by stage index); the replica id is stable for the replica's life.</summary>
[GenerateSerializer, Immutable, Alias("cluster.ReplicaNodes")]
public sealed record ReplicaNodes(
    [property: Id(0)] int Replica,
    [property: Id(1)] IReadOnlyList<string> Nodes);
