using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Wire;

/// <summary>
/// Moves tensors to and from <see cref="WireTensor"/> with one copy each way: device (or CPU) memory → a managed
/// array on the way out, the array → a fresh tensor on the way in. Counters let benchmarks report the bytes moved.
/// </summary>
public static class TensorWire
{
    private static long s_bytesOut;
    private static long s_bytesIn;
    private static long s_copyTicks;

    /// <summary>Total bytes copied out of tensors since start (all threads).</summary>
    public static long BytesOut => Interlocked.Read(ref s_bytesOut);

    /// <summary>Total bytes copied into tensors since start (all threads).</summary>
    public static long BytesIn => Interlocked.Read(ref s_bytesIn);

    /// <summary>Total time spent copying in both directions since start (all threads).</summary>
    public static TimeSpan CopyTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref s_copyTicks));

    /// <summary>
    /// Copies a tensor's data out (detached; a non-contiguous or device tensor is first made a contiguous CPU tensor),
    /// in chunks of at most <paramref name="maxChunkBytes"/>, so a tensor over 2 GiB (more than one array holds) goes too.
    /// </summary>
    public static WireTensor ToWire(Tensor tensor, int maxChunkBytes = WireTensor.MaxChunkBytes) => ToWire(tensor, null, maxChunkBytes);

    /// <summary>
    /// <see cref="ToWire(Tensor, int)"/> into the arrays of <paramref name="reuse"/> when it has the tensor's dtype and
    /// shape (then it is returned, overwritten; its old data must no longer be read), else into new ones.
    /// </summary>
    public static WireTensor ToWire(Tensor tensor, WireTensor? reuse, int maxChunkBytes = WireTensor.MaxChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long started = Stopwatch.GetTimestamp();
        using var scope = NewDisposeScope();
        var source = tensor.detach();
        if (source.device_type != DeviceType.CPU) source = source.cpu();
        if (!source.is_contiguous()) source = source.contiguous();
        int elementSize = (int)source.ElementSize;
        long bytes = source.NumberOfElements * elementSize;
        var dtype = WireDTypes.FromScalarType(source.dtype);
        bool reused = reuse is not null && reuse.DType == dtype && reuse.Shape.AsSpan().SequenceEqual(source.shape) && reuse.ByteLength == bytes
            && reuse.Chunks.All(c => c.Length <= maxChunkBytes);
        var chunks = reused ? [.. reuse!.Chunks] : WireChunks.Allocate(bytes, elementSize, maxChunkBytes);
        if (chunks.Length == 1)
        {
            source.bytes.CopyTo(chunks[0]);
        }
        else if (chunks.Length > 1)
        {
            // Tensor.bytes is one Span (int length): read the flat view a chunk's worth of elements at a time.
            var flat = source.reshape(-1);
            long start = 0;
            foreach (var chunk in chunks)
            {
                long elements = chunk.Length / elementSize;
                using var part = flat.narrow(0, start, elements);
                part.bytes.CopyTo(chunk);
                start += elements;
            }
        }
        var wire = reused ? reuse! : WireTensor.FromChunks(dtype, source.shape, chunks);
        Interlocked.Add(ref s_bytesOut, wire.ByteLength);
        Interlocked.Add(ref s_copyTicks, Stopwatch.GetTimestamp() - started);
        return wire;
    }

    /// <summary>Creates a new tensor on <paramref name="device"/> holding a copy of the wire data (any number of chunks).</summary>
    public static Tensor FromWire(WireTensor wire, Device device)
    {
        ArgumentNullException.ThrowIfNull(wire);
        ArgumentNullException.ThrowIfNull(device);
        if (wire.DType == WireDType.UInt16)
            throw new NotSupportedException("UInt16 wire tensors must be widened to Int64 before they become tensors.");
        long started = Stopwatch.GetTimestamp();
        var cpu = empty(wire.Shape, WireDTypes.ToScalarType(wire.DType), CPU);
        if (wire.Chunks.Count == 1)
        {
            wire.Chunks[0].AsSpan().CopyTo(cpu.bytes);
        }
        else if (wire.Chunks.Count > 1)
        {
            int elementSize = WireDTypes.ElementSize(wire.DType);
            using var flat = cpu.reshape(-1);
            long start = 0;
            foreach (var chunk in wire.Chunks)
            {
                if (chunk.Length % elementSize != 0)
                    throw new ArgumentException($"{wire}: a chunk of {chunk.Length} bytes splits an element of {elementSize} bytes.", nameof(wire));
                long elements = chunk.Length / elementSize;
                using var part = flat.narrow(0, start, elements);
                chunk.AsSpan().CopyTo(part.bytes);
                start += elements;
            }
        }
        Interlocked.Add(ref s_bytesIn, wire.ByteLength);
        Interlocked.Add(ref s_copyTicks, Stopwatch.GetTimestamp() - started);
        if (device.type == DeviceType.CPU) return cpu;
        using (cpu) return cpu.to(device);
    }

    /// <summary>Wraps int64 token ids [rows, cols] as a wire tensor.</summary>
    public static WireTensor FromTokens(long[] tokens, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if ((long)rows * cols != tokens.LongLength)
            throw new ArgumentException($"{tokens.Length} tokens do not fill a [{rows}, {cols}] batch.", nameof(tokens));
        var data = new byte[tokens.LongLength * sizeof(long)];
        Buffer.BlockCopy(tokens, 0, data, 0, data.Length);
        return new WireTensor(WireDType.Int64, [rows, cols], data);
    }
}
