namespace Cluster.Kernels.Wire;

/// <summary>How a tensor's bytes are cut into chunks: whole elements, at most a given size each, in order.</summary>
public static class WireChunks
{
    /// <summary>
    /// Uninitialised arrays for <paramref name="totalBytes"/> of data: every chunk but the last holds the largest whole
    /// number of elements that fits in <paramref name="maxChunkBytes"/>. No chunk for no data.
    /// </summary>
    public static byte[][] Allocate(long totalBytes, int elementSize, int maxChunkBytes = WireTensor.MaxChunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(elementSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunkBytes, elementSize);
        if (totalBytes % elementSize != 0)
            throw new ArgumentException($"{totalBytes} bytes are not a whole number of {elementSize}-byte elements.", nameof(totalBytes));
        long chunkBytes = maxChunkBytes / elementSize * (long)elementSize;
        long count = (totalBytes + chunkBytes - 1) / chunkBytes;
        var chunks = new byte[count][];
        long left = totalBytes;
        for (long i = 0; i < count; i++)
        {
            // Every byte is overwritten by the caller, so skip zeroing (these are large-object-heap arrays).
            chunks[i] = GC.AllocateUninitializedArray<byte>((int)Math.Min(chunkBytes, left));
            left -= chunks[i].Length;
        }
        return chunks;
    }
}
