using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>
/// Sums the replicas' gradient totals (flat float32, in replica rank order) in the accumulator's binary-counter tree,
/// so that with <see cref="ReplicaSplit"/> blocks the result is the single-replica sum bit for bit. Addition is
/// element-wise, so any slice of the flat vector reduces to the same bits on its own: an all-reduce may cut the vector
/// into chunks, reduce each chunk on a different replica and gather the chunks back.
/// </summary>
public static class ReplicaReduction
{
    public static float[] Sum(IReadOnlyList<float[]> totalsByRank)
    {
        ArgumentNullException.ThrowIfNull(totalsByRank);
        if (totalsByRank.Count == 0)
            throw new ArgumentException("At least one replica's gradients are needed.", nameof(totalsByRank));
        int length = totalsByRank[0].Length;
        if (totalsByRank.Any(t => t is null || t.Length != length))
            throw new ArgumentException($"Replica gradients differ in length (expected {length} values each): the replicas run different stage plans.", nameof(totalsByRank));
        if (totalsByRank.Count == 1) return (float[])totalsByRank[0].Clone();
        using var scope = NewDisposeScope();
        using var accumulator = new GradientAccumulator();
        for (int rank = 0; rank < totalsByRank.Count; rank++)
            accumulator.Add(rank, [tensor(totalsByRank[rank]).DetachFromDisposeScope()]);
        var total = accumulator.TakeTotal();
        try
        {
            return MemoryMarshal.Cast<byte, float>(total[0].contiguous().bytes).ToArray();
        }
        finally
        {
            total[0].Dispose();
        }
    }

    /// <summary>The [start, end) of chunk <paramref name="chunk"/> when <paramref name="length"/> values are cut into <paramref name="chunks"/> near-equal chunks.</summary>
    public static (int Start, int End) Chunk(int length, int chunks, int chunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(chunk);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chunk, chunks);
        return ((int)((long)length * chunk / chunks), (int)((long)length * (chunk + 1) / chunks));
    }
}
