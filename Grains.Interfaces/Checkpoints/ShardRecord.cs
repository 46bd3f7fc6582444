namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>One durable unit-state file of a checkpoint: where it is and how to verify it.</summary>
[GenerateSerializer, Immutable, Alias("cluster.ShardRecord")]
public sealed record ShardRecord(
    [property: Id(0)] int Stage,
    [property: Id(1)] int UnitIndex,
    [property: Id(2)] string UnitName,
    [property: Id(3)] string Name,
    [property: Id(4)] long Bytes,
    [property: Id(5)] string Sha256);
