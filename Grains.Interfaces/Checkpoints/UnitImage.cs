namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>One unit's state as a safetensors image, on its way from a stage to its checkpoint shard.</summary>
[GenerateSerializer, Immutable, Alias("cluster.UnitImage")]
public sealed record UnitImage(
    [property: Id(0)] int UnitIndex,
    [property: Id(1)] string UnitName,
    [property: Id(2)] byte[] Image);
