namespace Cluster.Kernels.Wire;

/// <summary>
/// A tensor as plain bytes: dtype, shape and little-endian, row-major (contiguous) data. This is what activations,
/// gradients and checkpoint shards are when they leave a compute device; no torch object ever crosses a boundary.
/// </summary>
public sealed class WireTensor
{
    public WireTensor(WireDType dtype, long[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long elements = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"Tensor shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
            elements = checked(elements * dim);
        }
        long expected = checked(elements * WireDTypes.ElementSize(dtype));
        if (expected != data.LongLength)
            throw new ArgumentException(
                $"Tensor data is {data.LongLength} bytes but dtype {dtype} with shape [{string.Join(", ", shape)}] needs {expected} bytes: the payload is truncated or its header is wrong.",
                nameof(data));
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    public WireDType DType { get; }

    public long[] Shape { get; }

    public byte[] Data { get; }

    public long ElementCount => Data.LongLength / WireDTypes.ElementSize(DType);

    public override string ToString() => $"{DType}[{string.Join(", ", Shape)}] ({Data.Length} bytes)";
}
