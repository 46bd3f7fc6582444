using Cluster.Kernels.Training;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>
/// The accumulator sums micro-batch gradients in one fixed binary tree. The values are chosen so that float32
/// addition order changes the result, so a different tree (e.g. a running sum) gives different bits.
/// </summary>
public sealed class GradientAccumulatorTests
{
    /// <summary>Adds one scalar gradient per micro-batch (for two parameters) and returns the totals.</summary>
    private static float[] Accumulate(float[][] gradientsByMicroBatch)
    {
        using var accumulator = new GradientAccumulator();
        for (int micro = 0; micro < gradientsByMicroBatch.Length; micro++)
            accumulator.Add(micro, gradientsByMicroBatch[micro].Select(v => tensor(v)).ToArray());
        Assert.Equal(gradientsByMicroBatch.Length, accumulator.Count);
        var total = accumulator.TakeTotal();
        try
        {
            Assert.All(total, t => Assert.Equal(0, t.dim()));
            return total.Select(t => t.item<float>()).ToArray();
        }
        finally
        {
            foreach (var t in total) t.Dispose();
        }
    }

    private static void AssertBits(float expected, float actual, string what) =>
        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void Four_micro_batches_sum_as_pairs_of_pairs()
    {
        // Parameter 0: (1e8 + 1) + (-1e8 + 1) = 0 in float32, but a running sum gives ((1e8 + 1) - 1e8) + 1 = 1.
        // Parameter 1: (1 + 1) + (1e8 - 1e8) = 2, but ((1 + 1) + 1e8) - 1e8 = 0 and 1 + (1 + (1e8 - 1e8)) = 2.
        float[] p0 = [1e8f, 1f, -1e8f, 1f];
        float[] p1 = [1f, 1f, 1e8f, -1e8f];
        var total = Accumulate([[p0[0], p1[0]], [p0[1], p1[1]], [p0[2], p1[2]], [p0[3], p1[3]]]);

        AssertBits(p0[0] + p0[1] + (p0[2] + p0[3]), total[0], "parameter 0");
        AssertBits(p1[0] + p1[1] + (p1[2] + p1[3]), total[1], "parameter 1");
        // The values do discriminate: a running sum would give other bits.
        Assert.NotEqual(p0[0] + p0[1] + p0[2] + p0[3], total[0]);
        Assert.NotEqual(p1[0] + p1[1] + p1[2] + p1[3], total[1]);
    }

    [Fact]
    public void Three_micro_batches_sum_as_a_pair_then_the_last()
    {
        // (1 + 1e8) - 1e8 = 0 in float32, whereas 1 + (1e8 - 1e8) = 1.
        float[] p0 = [1f, 1e8f, -1e8f];
        var total = Accumulate([[p0[0]], [p0[1]], [p0[2]]]);

        AssertBits(p0[0] + p0[1] + p0[2], total[0], "parameter 0");
        Assert.NotEqual(p0[0] + (p0[1] + p0[2]), total[0]);
    }

    /// <summary>The canonical tree: the largest power-of-two prefix summed pairwise, plus the tree of the rest.</summary>
    private static float Canonical(ReadOnlySpan<float> values)
    {
        if (values.Length == 1) return values[0];
        int prefix = 1;
        while (prefix * 2 <= values.Length) prefix *= 2;
        if (prefix == values.Length)
            return Canonical(values[..(prefix / 2)]) + Canonical(values[(prefix / 2)..]);
        return Canonical(values[..prefix]) + Canonical(values[prefix..]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Any_count_of_micro_batches_follows_the_binary_counter_tree(int microBatches)
    {
        // 32 parameters of values with wildly different magnitudes, so rounding depends on the order.
        const int parameters = 32;
        var random = new Random(microBatches);
        var values = new float[microBatches][];
        for (int m = 0; m < microBatches; m++)
            values[m] = Enumerable.Range(0, parameters)
                .Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 9))))
                .ToArray();

        var total = Accumulate(values);

        for (int p = 0; p < parameters; p++)
        {
            var column = values.Select(v => v[p]).ToArray();
            AssertBits(Canonical(column), total[p], $"parameter {p} over {microBatches} micro-batches");
        }
        if (microBatches >= 3) // from 3 on a running sum is a different tree: the data must tell them apart
            Assert.Contains(Enumerable.Range(0, parameters), p => values.Aggregate(0f, (sum, v) => sum + v[p]) != total[p]);
    }

    [Fact]
    public void Arrival_order_does_not_change_the_bits()
    {
        float[][] values = [[1e8f, 3f], [1f, 1e-3f], [-1e8f, 7f], [1f, 5e-4f], [0.5f, 1e7f]];
        float[] inOrder = Accumulate(values);
        foreach (int[] order in new[] { new[] { 4, 3, 2, 1, 0 }, [2, 0, 4, 1, 3], [1, 0, 3, 2, 4] })
        {
            using var accumulator = new GradientAccumulator();
            foreach (int micro in order)
                accumulator.Add(micro, values[micro].Select(v => tensor(v)).ToArray());
            Assert.Equal(values.Length, accumulator.Count);
            var total = accumulator.TakeTotal();
            try
            {
                for (int p = 0; p < inOrder.Length; p++)
                    AssertBits(inOrder[p], total[p].item<float>(), $"parameter {p}, arrival order [{string.Join(", ", order)}]");
            }
            finally
            {
                foreach (var t in total) t.Dispose();
            }
        }
    }

    [Fact]
    public void Repeated_or_missing_micro_batch_is_refused()
    {
        using var accumulator = new GradientAccumulator();
        accumulator.Add(0, [tensor(1f)]);
        var repeated = new[] { tensor(1f) };
        try
        {
            Assert.Throws<InvalidOperationException>(() => accumulator.Add(0, repeated));
        }
        finally
        {
            repeated[0].Dispose(); // refused, so still ours
        }
        accumulator.Add(2, [tensor(1f)]); // micro-batch 1 never arrives
        var e = Assert.Throws<InvalidOperationException>(() => accumulator.TakeTotal());
        Assert.Contains("micro-batch 1 never arrived", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Taking_the_total_resets_the_accumulator()
    {
        using var accumulator = new GradientAccumulator();
        Assert.Throws<InvalidOperationException>(() => accumulator.TakeTotal());

        accumulator.Add(0, [tensor(2f)]);
        accumulator.Add(1, [tensor(3f)]);
        var first = accumulator.TakeTotal();
        Assert.Equal(5f, first[0].item<float>());
        first[0].Dispose();
        Assert.Equal(0, accumulator.Count);

        accumulator.Add(0, [tensor(7f)]); // a new step starts at micro-batch 0 again
        var second = accumulator.TakeTotal();
        Assert.Equal(7f, second[0].item<float>());
        second[0].Dispose();
    }
}
