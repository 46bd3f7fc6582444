namespace Cluster.Grains.Scheduling;

/// <summary>An operator's mark on a node (cordoned, or draining) and why, persisted so a re-activated scheduler keeps it.</summary>
[GenerateSerializer, Immutable, Alias("cluster.OperatorNodeMark")]
public sealed record OperatorNodeMark([property: Id(0)] bool Draining, [property: Id(1)] string? Reason);
