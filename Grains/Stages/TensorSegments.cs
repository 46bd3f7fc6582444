using Cluster.Kernels.Wire;

namespace Cluster.Grains.Stages;

/// <summary>
/// A tensor cut into segments of at most a given size for the grain calls between stages, and joined again. A
/// segment holds whole elements; joined, the tensor is held as usual (one chunk up to <see cref="WireTensor.MaxChunkBytes"/>).
/// </summary>
internal static class TensorSegments
{
    /// <summary>The tensor's bytes in segments of at most <paramref name="segmentBytes"/> (rounded down to whole elements), copied.</summary>
    public static byte[][] Cut(WireTensor wire, int segmentBytes)
    {
        ArgumentNullException.ThrowIfNull(wire);
        int element = WireDTypes.ElementSize(wire.DType);
        int size = Math.Max(element, segmentBytes / element * element);
        var segments = new byte[(int)Math.Max(1, (wire.ByteLength + size - 1) / size)][];
        long at = 0;
        for (int i = 0; i < segments.Length; i++)
        {
            segments[i] = GC.AllocateUninitializedArray<byte>((int)Math.Min(size, wire.ByteLength - at));
            Copy(wire.Chunks, at, segments[i]);
            at += segments[i].Length;
        }
        return segments;
    }

    /// <summary>The tensor whose bytes are <paramref name="segments"/> in order, held in the usual chunks (copied).</summary>
    public static WireTensor Join(WireDType dtype, long[] shape, IReadOnlyList<byte[]> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        long total = segments.Sum(s => (long)s.Length);
        var chunks = WireChunks.Allocate(total, WireDTypes.ElementSize(dtype));
        long at = 0;
        foreach (var chunk in chunks)
        {
            Copy(segments, at, chunk);
            at += chunk.Length;
        }
        return WireTensor.FromChunks(dtype, shape, chunks);
    }

    /// <summary>Copies <c>destination.Length</c> bytes from offset <paramref name="from"/> of the concatenation of <paramref name="parts"/>.</summary>
    private static void Copy(IReadOnlyList<byte[]> parts, long from, Span<byte> destination)
    {
        long start = 0;
        int written = 0;
        foreach (var part in parts)
        {
            if (written == destination.Length) return;
            long end = start + part.Length;
            if (end > from + written)
            {
                int offset = (int)(from + written - start);
                int count = Math.Min(part.Length - offset, destination.Length - written);
                part.AsSpan(offset, count).CopyTo(destination[written..]);
                written += count;
            }
            start = end;
        }
        if (written != destination.Length)
            throw new ArgumentOutOfRangeException(nameof(from), $"Bytes [{from}, {from + destination.Length}) are past the end ({start}).");
    }
}
