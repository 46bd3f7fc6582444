namespace Cluster.Grains.Interfaces.Messages;

/// <summary>
/// A tensor on the wire: dtype code, shape and little-endian row-major bytes. The only form in which activations,
/// gradients and state leave a device. Immutable, so a call inside one silo passes it without a copy.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.TensorPayload")]
public sealed record TensorPayload(
    [property: Id(0)] byte DType,
    [property: Id(1)] long[] Shape,
    [property: Id(2)] byte[] Data);
