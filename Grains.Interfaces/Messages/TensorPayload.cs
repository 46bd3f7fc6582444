namespace Cluster.Grains.Interfaces.Messages;

/// <summary>
/// A tensor on the wire: dtype code, shape and little-endian row-major bytes. The only form in which activations,
/// gradients and state leave a device. Immutable, so a call inside one silo passes it without a copy.
/// </summary>
/// <remarks>
/// A byte array holds at most about 2 GiB, so the bytes are <see cref="Data"/> followed by <see cref="MoreChunks"/>
/// (each at most 1 GiB; empty for a tensor of up to 1 GiB). Between silos one Orleans message carries at most
/// <c>MessagingOptions.MaxMessageBodySize</c> (100 MiB by default, and an int in any case), so between stages a tensor
/// over <c>TrainingCluster:TensorSegmentBytes</c> (32 MiB) travels as a header — its first segment here, the count of
/// the rest in <see cref="SeparateSegments"/> — and one call per further segment
/// (<see cref="Stages.IPipelineStageGrain.AcceptTensorSegment"/>), which the receiver joins.
/// </remarks>
[GenerateSerializer, Immutable, Alias("cluster.TensorPayload")]
public sealed record TensorPayload(
    [property: Id(0)] byte DType,
    [property: Id(1)] long[] Shape,
    [property: Id(2)] byte[] Data)
{
    /// <summary>The chunks after <see cref="Data"/>, in order (a tensor over 1 GiB).</summary>
    [Id(3)]
    public byte[][] MoreChunks { get; init; } = [];

    /// <summary>
    /// How many segments of the data follow <see cref="Data"/> by calls of their own, sent to the receiver before this
    /// payload (see the remarks); 0: this object holds all of it.
    /// </summary>
    [Id(4)]
    public int SeparateSegments { get; init; }
}
