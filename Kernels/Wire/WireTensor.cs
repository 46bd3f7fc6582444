namespace Cluster.Kernels.Wire;

/// <summary>
/// A tensor as plain bytes: dtype, shape and little-endian, row-major (contiguous) data. This is what activations,
/// gradients and checkpoint shards are when they leave a compute device; no torch object ever crosses a boundary.
/// </summary>
/// <remarks>
/// A .NET array holds at most about 2 GiB, so the data is a list of chunks read in order; every chunk is at most
/// <see cref="MaxChunkBytes"/> (1 GiB), and a tensor of up to that size is one chunk. A tensor just over 2 GiB is
/// three chunks.
/// </remarks>
public sealed class WireTensor
{
    /// <summary>The largest chunk this project writes (1 GiB): well under the ≈ 2 GiB a byte array can hold.</summary>
    public const int MaxChunkBytes = 1 << 30;

    /// <summary>A tensor whose data is one array.</summary>
    public WireTensor(WireDType dtype, long[] shape, byte[] data)
        : this(dtype, shape, [data ?? throw new ArgumentNullException(nameof(data))], nameof(data))
    {
    }

    private WireTensor(WireDType dtype, long[] shape, IReadOnlyList<byte[]> chunks, string parameter)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(chunks);
        long elements = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"Tensor shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
            elements = checked(elements * dim);
        }
        long expected = checked(elements * WireDTypes.ElementSize(dtype));
        long length = 0;
        foreach (var chunk in chunks)
            length = checked(length + (chunk ?? throw new ArgumentException("A tensor data chunk is null.", parameter)).LongLength);
        if (expected != length)
            throw new ArgumentException(
                $"Tensor data is {length} bytes but dtype {dtype} with shape [{string.Join(", ", shape)}] needs {expected} bytes: the payload is truncated or its header is wrong.",
                parameter);
        DType = dtype;
        Shape = shape;
        Chunks = chunks;
        ByteLength = length;
    }

    /// <summary>A tensor whose data is the concatenation of <paramref name="chunks"/>, in order.</summary>
    public static WireTensor FromChunks(WireDType dtype, long[] shape, IReadOnlyList<byte[]> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        return new WireTensor(dtype, shape, chunks, nameof(chunks));
    }

    public WireDType DType { get; }

    public long[] Shape { get; }

    /// <summary>The data, in order (one chunk up to <see cref="MaxChunkBytes"/>).</summary>
    public IReadOnlyList<byte[]> Chunks { get; }

    /// <summary>Total bytes of data: may exceed what one array holds.</summary>
    public long ByteLength { get; }

    /// <summary>
    /// The data as one array, for a tensor held in one chunk (every tensor up to <see cref="MaxChunkBytes"/>); a larger
    /// tensor cannot be one array: read <see cref="Chunks"/>.
    /// </summary>
    public byte[] Data => Chunks.Count == 1 ? Chunks[0]
        : Chunks.Count == 0 ? []
        : throw new InvalidOperationException($"{this} is held in {Chunks.Count} chunks (over {MaxChunkBytes} bytes): read Chunks.");

    public long ElementCount => ByteLength / WireDTypes.ElementSize(DType);

    /// <summary>Copies <paramref name="bytes"/> into chunks of at most <paramref name="maxChunkBytes"/> (whole elements each).</summary>
    public static WireTensor Copy(WireDType dtype, long[] shape, ReadOnlySpan<byte> bytes, int maxChunkBytes = MaxChunkBytes)
    {
        var chunks = WireChunks.Allocate(bytes.Length, WireDTypes.ElementSize(dtype), maxChunkBytes);
        int at = 0;
        foreach (var chunk in chunks)
        {
            bytes.Slice(at, chunk.Length).CopyTo(chunk);
            at += chunk.Length;
        }
        return FromChunks(dtype, shape, chunks);
    }

    public override string ToString() => $"{DType}[{string.Join(", ", Shape)}] ({ByteLength} bytes)";
}
