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
        if (!Enum.IsDefined((WireDType)payload.DType))
            throw new ArgumentException($"Tensor payload has unknown dtype code {payload.DType}.", nameof(payload));
        if (payload.SeparateSegments != 0)
            throw new ArgumentException($"Tensor payload is a header: {payload.SeparateSegments} of its segments were sent apart and must be joined first.", nameof(payload));
        return payload.MoreChunks is not { Length: > 0 } more
            ? new WireTensor((WireDType)payload.DType, payload.Shape, payload.Data)
            : WireTensor.FromChunks((WireDType)payload.DType, payload.Shape, [payload.Data, .. more]);
    }
}
