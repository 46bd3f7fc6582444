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

    /// <summary>
    /// Legacy: step losses 0 … Step-1, as manifests embedded them before the history moved to <see cref="LossLog"/>.
    /// Read from old manifests, never written again (empty), so a manifest's size does not grow with the step count.
    /// </summary>
    [Id(11)] public IReadOnlyList<double> LossHistory { get; init; } = [];

    /// <summary>
    /// Where the store found it (set by the store when listing, not part of the manifest's JSON): restore reads the
    /// shards from the same shard set. New commits are always <see cref="CheckpointLayout.EpochFolders"/>.
    /// </summary>
    [Id(12), System.Text.Json.Serialization.JsonIgnore] public CheckpointLayout Layout { get; init; }

    /// <summary>The loss of step <see cref="Step"/> (null at step 0, and in manifests written before it existed).</summary>
    [Id(13)] public double? Loss { get; init; }

    /// <summary>
    /// The file of the checkpoint's shard set that holds step losses 0 … Step-1 (null at step 0, and in manifests
    /// written before it existed: those embed <see cref="LossHistory"/>). Read only when a restore needs losses the
    /// job no longer has (a rewind to a checkpoint of an abandoned timeline).
    /// </summary>
    [Id(14)] public LossLogRecord? LossLog { get; init; }

    /// <summary>The loss of step <see cref="Step"/> in a manifest of either form; null at step 0.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double? StepLoss => Loss ?? (LossHistory.Count > 0 ? LossHistory[^1] : null);
}
