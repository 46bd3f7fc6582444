using System.Numerics;

namespace Cluster.Kernels.Training;

/// <summary>
/// How a step's M micro-batches split over R data-parallel replicas without changing a bit: replica r (by rank) takes
/// the contiguous block [r·k, (r+1)·k) with k = M / R. The gradient accumulator sums micro-batches in a binary-counter
/// tree; when k is a power of two every such block is a complete subtree of it, so each replica's local sum is exactly
/// a node of the reference tree, and summing the R replica totals in the same binary-counter order (see
/// <see cref="ReplicaReduction"/>) rebuilds the reference sum. R = 1 is always exact; other counts need k = M / R to be
/// a whole power of two.
/// </summary>
public static class ReplicaSplit
{
    /// <summary>Most replicas a job may declare (a sanity bound for specs, not a limit of the method).</summary>
    public const int MaxReplicas = 64;

    /// <summary>True when <paramref name="replicas"/> replicas reproduce the single-replica result bit for bit.</summary>
    public static bool IsExact(int microBatches, int replicas) =>
        replicas == 1 || (replicas > 1 && microBatches % replicas == 0 && BitOperations.IsPow2(microBatches / replicas));

    /// <summary>The exact replica counts from <paramref name="min"/> to <paramref name="max"/>, ascending.</summary>
    public static IReadOnlyList<int> ExactCounts(int microBatches, int min, int max) =>
        [.. Enumerable.Range(Math.Max(1, min), Math.Max(0, max - Math.Max(1, min) + 1)).Where(r => IsExact(microBatches, r))];

    /// <summary>Every exact count for <paramref name="microBatches"/> up to <see cref="MaxReplicas"/>, for error messages.</summary>
    public static string DescribeExactCounts(int microBatches)
    {
        var counts = ExactCounts(microBatches, 1, Math.Min(MaxReplicas, Math.Max(1, microBatches)));
        return counts.Count == 1 ? "1" : string.Join(", ", counts.Take(counts.Count - 1)) + " or " + counts[^1];
    }

    /// <summary>Micro-batches each of <paramref name="replicas"/> replicas runs per step.</summary>
    public static int PerReplica(int microBatches, int replicas)
    {
        if (!IsExact(microBatches, replicas))
            throw new ArgumentException($"{replicas} replicas cannot split {microBatches} micro-batches into equal power-of-two blocks; use {DescribeExactCounts(microBatches)} replicas.", nameof(replicas));
        return microBatches / replicas;
    }
}
