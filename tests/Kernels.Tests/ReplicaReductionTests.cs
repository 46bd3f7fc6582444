using Cluster.Kernels.Training;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>
/// <see cref="ReplicaReduction.Sum(IReadOnlyList{ReadOnlyMemory{float}})"/> adds in managed code what the accumulator
/// adds with libtorch: for every replica count, its bits must be the accumulator's, whatever the values — values whose
/// sum depends on the order of addition, subnormals, signed zeros, infinities — and whether the parts are whole
/// vectors or slices of larger ones.
/// </summary>
public sealed class ReplicaReductionTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void The_sum_has_the_accumulators_bits_for_every_replica_count(int ranks)
    {
        var random = new Random(ranks);
        float[][] totals = [.. Enumerable.Range(0, ranks).Select(_ => Values(random, 1027))];
        float[] expected = AccumulatorSum(totals);

        float[] whole = ReplicaReduction.Sum(totals);
        // The same values as slices of larger vectors (as a rank reads its own chunk in place).
        float[][] padded = [.. totals.Select(t => (float[])[-1f, .. t, 7f])];
        float[] sliced = ReplicaReduction.Sum([.. padded.Select(p => new ReadOnlyMemory<float>(p, 1, p.Length - 2))]);
        // Into a buffer the caller keeps, used before for other values (as the all-reduce reuses it step after step).
        var buffer = ReplicaReduction.Sum([.. totals.Select(t => (ReadOnlyMemory<float>)t.Select(v => -v).ToArray())]);
        float[] reused = ReplicaReduction.Sum([.. totals.Select(t => (ReadOnlyMemory<float>)t)], buffer);
        Assert.Same(buffer, reused);

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(whole[i]), $"{ranks} ranks, value {i}: the accumulator gives {expected[i]:R}, the sum {whole[i]:R}");
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(sliced[i]), $"{ranks} ranks, value {i} of slices: the accumulator gives {expected[i]:R}, the sum {sliced[i]:R}");
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(reused[i]), $"{ranks} ranks, value {i} into a reused buffer: the accumulator gives {expected[i]:R}, the sum {reused[i]:R}");
        }
        Assert.All(totals, t => Assert.NotSame(t, whole)); // a new array, never one of the parts (it is shared with peers)
    }

    [Fact]
    public void Parts_of_different_lengths_are_refused_naming_the_cause()
    {
        var error = Assert.Throws<ArgumentException>(() => ReplicaReduction.Sum([new float[4], new float[5]]));
        Assert.Contains("different stage plans", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_buffer_that_overlaps_a_part_or_differs_in_length_is_refused()
    {
        var vector = new float[8];
        Assert.Throws<ArgumentException>(() => ReplicaReduction.Sum([new ReadOnlyMemory<float>(vector, 0, 4), new float[4]], new float[5]));
        float[] four = new float[4];
        var error = Assert.Throws<ArgumentException>(() => ReplicaReduction.Sum([new float[4], four], four));
        Assert.Contains("overlaps", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Values whose float32 sums depend on the order: large and small magnitudes, subnormals, ±0, ±∞ now and then.</summary>
    private static float[] Values(Random random, int count) => [.. Enumerable.Range(0, count).Select(i => (i % 97) switch
    {
        0 => float.Epsilon * random.Next(1, 100),
        1 => -0f,
        2 => 0f,
        3 => random.Next(2) == 0 ? float.PositiveInfinity : 1e38f,
        _ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 9))),
    })];

    /// <summary>The replicas' totals added as micro-batches in rank order by <see cref="GradientAccumulator"/> (libtorch).</summary>
    private static float[] AccumulatorSum(float[][] totals)
    {
        using var scope = NewDisposeScope();
        using var accumulator = new GradientAccumulator();
        for (int rank = 0; rank < totals.Length; rank++)
            accumulator.Add(rank, [tensor(totals[rank]).DetachFromDisposeScope()]);
        var total = accumulator.TakeTotal();
        try
        {
            return total[0].data<float>().ToArray();
        }
        finally
        {
            total[0].Dispose();
        }
    }
}
