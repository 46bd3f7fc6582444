using Cluster.Grains.Interfaces.Messages;
using Cluster.Kernels.Wire;

namespace Cluster.Grains.Stages;

/// <summary>Converts between Kernels' <see cref="WireTensor"/> and the grain message, sharing the byte arrays (no copy), chunk for chunk.</summary>
internal static class Payloads
{
    public static TensorPayload ToPayload(this WireTensor wire) => wire.Chunks.Count switch
    {
        0 => new((byte)wire.DType, wire.Shape, []),
        1 => new((byte)wire.DType, wire.Shape, wire.Chunks[0]),
        _ => new((byte)wire.DType, wire.Shape, wire.Chunks[0]) { MoreChunks = [.. wire.Chunks.Skip(1)] },
    };

    public static WireTensor ToWire(this TensorPayload payload)
    {
        var dtype = DTypeOf(payload);
        if (payload.SeparateSegments != 0)
            throw new ArgumentException($"Tensor payload is a header: {payload.SeparateSegments} of its segments were sent apart and must be joined first.", nameof(payload));
        return payload.MoreChunks is not { Length: > 0 } more
            ? new WireTensor(dtype, payload.Shape, payload.Data)
            : WireTensor.FromChunks(dtype, payload.Shape, [payload.Data, .. more]);
    }

    /// <summary>The payload's dtype; a clear error for a code this build does not know.</summary>
    public static WireDType DTypeOf(TensorPayload payload) => Enum.IsDefined((WireDType)payload.DType)
        ? (WireDType)payload.DType
        : throw new ArgumentException($"Tensor payload has unknown dtype code {payload.DType}.", nameof(payload));
}
