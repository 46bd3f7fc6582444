using Cluster.Kernels.Checkpoint;
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
        var bytes = new ChunkedBytes(wire.Chunks);
        var segments = new byte[(int)Math.Max(1, (wire.ByteLength + size - 1) / size)][];
        long at = 0;
        for (int i = 0; i < segments.Length; i++)
        {
            segments[i] = GC.AllocateUninitializedArray<byte>((int)Math.Min(size, wire.ByteLength - at));
            bytes.CopyTo(at, segments[i]);
            at += segments[i].Length;
        }
        return segments;
    }

    /// <summary>The tensor whose bytes are <paramref name="segments"/> in order, held in the usual chunks (copied).</summary>
    public static WireTensor Join(WireDType dtype, long[] shape, IReadOnlyList<byte[]> segments)
    {
        var bytes = new ChunkedBytes(segments);
        var chunks = WireChunks.Allocate(bytes.Length, WireDTypes.ElementSize(dtype));
        long at = 0;
        foreach (var chunk in chunks)
        {
            bytes.CopyTo(at, chunk);
            at += chunk.Length;
        }
        return WireTensor.FromChunks(dtype, shape, chunks);
    }
}
