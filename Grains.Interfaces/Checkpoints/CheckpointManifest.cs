using Cluster.Grains.Interfaces.Messages;

namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// A committed checkpoint: written only after every shard is durable, and the only thing restore trusts.
/// <see cref="Step"/> counts completed optimizer steps, so training resumes at step index <see cref="Step"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.CheckpointManifest")]
public sealed record CheckpointManifest
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required long Step { get; init; }
    [Id(2)] public required long Epoch { get; init; }
    [Id(3)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(4)] public required ModelSpec Model { get; init; }
    [Id(5)] public required int[] UnitsPerStage { get; init; }
    [Id(6)] public required IReadOnlyList<ShardRecord> Shards { get; init; }
    [Id(7)] public required string DataSource { get; init; }
    [Id(8)] public required long DataSeed { get; init; }
    [Id(9)] public required int MicroBatches { get; init; }
    [Id(10)] public required int MicroBatchSize { get; init; }

    /// <summary>Step losses 0 … Step-1, so a restored job keeps its whole trajectory.</summary>
    [Id(11)] public IReadOnlyList<double> LossHistory { get; init; } = [];

    /// <summary>
    /// Where the store found it (set by the store when listing, not part of the manifest's JSON): restore reads the
    /// shards from the same shard set. New commits are always <see cref="CheckpointLayout.EpochFolders"/>.
    /// </summary>
    [Id(12), System.Text.Json.Serialization.JsonIgnore] public CheckpointLayout Layout { get; init; }
}
