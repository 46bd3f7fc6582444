namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>
/// The scheduler's answer to a <see cref="ReplicaRequest"/>: the nodes of every replica (by replica id, ascending), or a
/// refusal with its kind (to switch on) and the reason (to read). A placement with fewer replicas than the most the
/// request allowed says why in <see cref="Reason"/> (the larger count's refusal, and the nodes passed over as not
/// placeable); one with the most has none.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.ReplicaPlacement")]
public sealed record ReplicaPlacement(
    [property: Id(0)] bool Placed,
    [property: Id(1)] IReadOnlyList<ReplicaNodes> Replicas,
    [property: Id(2)] string? Reason)
{
    /// <summary><see cref="PlacementRefusal.None"/> when placed.</summary>
    [Id(3)]
    public PlacementRefusal Refusal { get; init; }

    public static ReplicaPlacement Refused(PlacementRefusal kind, string reason) => new(false, [], reason) { Refusal = kind };
}
