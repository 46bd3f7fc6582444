namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>One unit's state as a safetensors image, on its way from a stage to its checkpoint shard.</summary>
/// <remarks>
/// The image is <see cref="Image"/>, then <see cref="MoreChunks"/>, then <see cref="SeparateChunks"/> chunks that travel
/// by calls of their own (<see cref="ICheckpointShardGrain.AcceptChunk"/> before <see cref="ICheckpointShardGrain.Accept"/>,
/// <see cref="ICheckpointShardGrain.GetSnapshotChunk"/> after <see cref="ICheckpointShardGrain.GetSnapshot"/>): one
/// Orleans message holds at most <c>MaxMessageBodySize</c> (100 MiB by default, never 2 GiB), so an image over one
/// chunk (64 MiB) crosses silos a chunk per call. Written before these fields existed, a <see cref="UnitImage"/> is its
/// <see cref="Image"/> alone, and still reads so.
/// </remarks>
[GenerateSerializer, Immutable, Alias("cluster.UnitImage")]
public sealed record UnitImage(
    [property: Id(0)] int UnitIndex,
    [property: Id(1)] string UnitName,
    [property: Id(2)] byte[] Image)
{
    /// <summary>The image's chunks after <see cref="Image"/> held in this object, in order (a whole image held in memory).</summary>
    [Id(3)]
    public byte[][] MoreChunks { get; init; } = [];

    /// <summary>How many chunks follow <see cref="Image"/> and <see cref="MoreChunks"/> by calls of their own; 0: this object is the whole image.</summary>
    [Id(4)]
    public int SeparateChunks { get; init; }

    /// <summary>
    /// <see cref="MoreChunks"/>, or none for a <see cref="UnitImage"/> written before that field existed (the serializer
    /// leaves a field it did not receive null, whatever its initializer says): read the chunks through this.
    /// </summary>
    public byte[][] MoreChunksOrNone => MoreChunks is { } more ? more : [];
}
