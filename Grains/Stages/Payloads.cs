using Cluster.Grains.Interfaces.Messages;
using Cluster.Kernels.Wire;

namespace Cluster.Grains.Stages;

/// <summary>Converts between Kernels' <see cref="WireTensor"/> and the grain message, sharing the byte array (no copy).</summary>
internal static class Payloads
{
    public static TensorPayload ToPayload(this WireTensor wire) => new((byte)wire.DType, wire.Shape, wire.Data);

    public static WireTensor ToWire(this TensorPayload payload)
    {
        if (!Enum.IsDefined((WireDType)payload.DType))
            throw new ArgumentException($"Tensor payload has unknown dtype code {payload.DType}.", nameof(payload));
        return new WireTensor((WireDType)payload.DType, payload.Shape, payload.Data);
    }
}
