namespace Cluster.Grains.Interfaces.Messages;

/// <summary>
/// A tensor on the wire: dtype code, shape and little-endian row-major bytes. The only form in which activations,
/// gradients and state leave a device. Immutable, so a call inside one silo passes it without a copy.
/// </summary>
/// <remarks>
/// A byte array holds at most about 2 GiB, so the bytes are <see cref="Data"/> followed by <see cref="MoreChunks"/>
/// (each at most 1 GiB; empty for a tensor of up to 1 GiB). Between silos one Orleans message carries at most
/// <c>MessagingOptions.MaxMessageBodySize</c> (100 MiB by default, and an int in any case): a larger tensor crosses a
/// silo boundary only with that limit raised, and never over 2 GiB in one message.
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
}
