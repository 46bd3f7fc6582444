namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// A checkpoint's loss file: <paramref name="Count"/> step losses (little-endian IEEE doubles, steps 0 … Count-1) in
/// the file <paramref name="Name"/> of the checkpoint's shard set, whose content hashes to <paramref name="Sha256"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.LossLogRecord")]
public sealed record LossLogRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] long Count,
    [property: Id(2)] string Sha256);
