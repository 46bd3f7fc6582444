using System.Numerics;

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
        if (totalsByRank.Any(t => t is null))
            throw new ArgumentException("A replica's gradients are missing.", nameof(totalsByRank));
        return Sum([.. totalsByRank.Select(t => (ReadOnlyMemory<float>)t)]);
    }

    /// <summary>
    /// <see cref="Sum(IReadOnlyList{float[]})"/> over parts that may be slices of larger vectors (no copy of them is
    /// made). The sums are computed here, element by element in float32, in <see cref="GradientAccumulator"/>'s tree:
    /// rank r's total is added as micro-batch r would be, so (r0 + r1) + (r2 + r3) for four. A float32 addition has one
    /// correctly rounded result, so these are the bits libtorch's <c>add_</c> gives (issue 16: the tensors the sum
    /// went through before cost three copies of every part on the all-reduce's critical path). The result is a new
    /// array of its own, never one of the parts: <paramref name="into"/> when given (a buffer the caller reuses; it must
    /// not overlap any part), else a new one. Every sum of two or more parts ends in the array the first addition
    /// wrote (the tree's leftmost partial sum), so only that one is <paramref name="into"/>.
    /// </summary>
    public static float[] Sum(IReadOnlyList<ReadOnlyMemory<float>> partsByRank, float[]? into = null)
    {
        ArgumentNullException.ThrowIfNull(partsByRank);
        if (partsByRank.Count == 0)
            throw new ArgumentException("At least one replica's gradients are needed.", nameof(partsByRank));
        int length = partsByRank[0].Length;
        if (partsByRank.Any(t => t.Length != length))
            throw new ArgumentException($"Replica gradients differ in length (expected {length} values each): the replicas run different stage plans.", nameof(partsByRank));
        if (into is not null && into.Length != length)
            throw new ArgumentException($"The sum's buffer holds {into.Length} values, the parts {length}.", nameof(into));
        if (into is not null && partsByRank.Any(p => p.Span.Overlaps(into)))
            throw new ArgumentException("The sum's buffer overlaps one of the parts it sums.", nameof(into));
        // The binary counter of GradientAccumulator.Push: equal levels merge, the earlier ranks' sum the left operand.
        var stack = new List<(int Level, ReadOnlyMemory<float> Sum, float[]? Owned)>();
        foreach (var part in partsByRank)
        {
            stack.Add((0, part, null));
            while (stack.Count >= 2 && stack[^1].Level == stack[^2].Level)
            {
                var right = stack[^1];
                var left = stack[^2];
                stack.RemoveAt(stack.Count - 1);
                var sum = Add(left, right.Sum);
                stack[^1] = (left.Level + 1, sum, sum);
            }
        }
        // GradientAccumulator.TakeTotal: the partial sums folded from the top, each lower one the left operand.
        var total = stack[^1];
        for (int i = stack.Count - 2; i >= 0; i--)
        {
            var sum = Add(stack[i], total.Sum);
            total = (0, sum, sum);
        }
        if (total.Owned is { } owned) return owned;
        var whole = into ?? new float[length];
        total.Sum.Span.CopyTo(whole);
        return whole;

        float[] Add((int Level, ReadOnlyMemory<float> Sum, float[]? Owned) left, ReadOnlyMemory<float> right)
        {
            var result = left.Owned ?? Take(ref into) ?? new float[left.Sum.Length];
            AddInto(left.Sum.Span, right.Span, result);
            return result;
        }

        static float[]? Take(ref float[]? buffer)
        {
            var taken = buffer;
            buffer = null;
            return taken;
        }
    }

    /// <summary><paramref name="into"/>[i] = <paramref name="left"/>[i] + <paramref name="right"/>[i] (<paramref name="into"/> may be <paramref name="left"/>).</summary>
    private static void AddInto(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> into)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= into.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(left[i..]) + new Vector<float>(right[i..])).CopyTo(into[i..]);
        for (; i < into.Length; i++) into[i] = left[i] + right[i];
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
