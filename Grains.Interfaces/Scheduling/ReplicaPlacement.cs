namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>The scheduler's answer to a <see cref="ReplicaRequest"/>: the nodes of every replica (by replica id, ascending), or a refusal with the reason.</summary>
[GenerateSerializer, Immutable, Alias("cluster.ReplicaPlacement")]
public sealed record ReplicaPlacement(
    [property: Id(0)] bool Placed,
    [property: Id(1)] IReadOnlyList<ReplicaNodes> Replicas,
    [property: Id(2)] string? Reason)
{
    public static ReplicaPlacement Refused(string reason) => new(false, [], reason);
}
