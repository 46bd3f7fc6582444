namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// A checkpoint's loss file: the file <paramref name="Name"/> of the checkpoint's shard set, whose content hashes to
/// <paramref name="Sha256"/>, holds step losses <see cref="From"/> … <paramref name="Count"/>-1 (little-endian IEEE
/// doubles). With <see cref="From"/> 0 (every file written before it existed) the file is the whole history; else losses
/// 0 … From-1 are in the job's chunked loss log, and the history rebuilt from both must hash to
/// <see cref="HistorySha256"/>. Ids are append-only.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.LossLogRecord")]
public sealed record LossLogRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] long Count,
    [property: Id(2)] string Sha256)
{
    /// <summary>The first step loss the file holds (0: all of them).</summary>
    [Id(3)] public long From { get; init; }

    /// <summary>SHA-256 of losses 0 … Count-1 as a whole (set when <see cref="From"/> is above 0).</summary>
    [Id(4)] public string? HistorySha256 { get; init; }
}
