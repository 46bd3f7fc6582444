using Cluster.Kernels.Model;
using Cluster.Kernels.Training;

namespace Cluster.Kernels.Tests;

/// <summary>
/// The data-parallel claim, in one process: R replicas of a P-stage pipeline, each running its block of the step's
/// micro-batches, with gradients summed across replicas in the canonical order, train bit-identically to the
/// reference trainer at the same global batch — for every exact replica count, and when the count changes mid-run.
/// </summary>
public sealed class DataParallelEquivalenceTests
{
    private const int Steps = 8;

    [Fact]
    public void Every_exact_replica_count_trains_bit_identically_to_the_reference_trainer() => AssertEveryReplicaCountMatchesTheReference(Steps);

    /// <summary>2, 4 and 8 replicas of 1–2 stages against the reference trainer over <paramref name="steps"/> steps (also run under GC stress).</summary>
    internal static void AssertEveryReplicaCountMatchesTheReference(int steps)
    {
        var options = TinyModel.Options(microBatches: 8, steps: steps);
        var (referenceLosses, referenceParameters) = Reference(options, steps);

        foreach (var (replicas, stages) in new[] { (2, 1), (2, 2), (4, 2), (8, 1) })
        {
            using var trainer = new PipelineTrainer(options, StagePlan.Balanced(options.Model, stages), TinyModel.Corpus, PipelineSchedule.OneForwardOneBackward, replicas);
            var losses = Enumerable.Range(0, steps).Select(_ => trainer.TrainStep().Loss).ToList();
            BitAssert.Equal(referenceLosses, losses, $"loss trajectory with {replicas} replicas × {stages} stages");
            for (int rank = 0; rank < replicas; rank++)
                BitAssert.Equal(referenceParameters, trainer.ParameterValues(rank), $"parameters of replica {rank} of {replicas} after {steps} steps");
        }
    }

    [Fact]
    public void Replica_blocks_that_are_not_tree_aligned_are_refused_with_the_counts_that_work()
    {
        var options = TinyModel.Options(microBatches: 12, steps: 4);
        var e = Assert.Throws<ArgumentException>(() => new PipelineTrainer(options, StagePlan.Balanced(options.Model, 1), TinyModel.Corpus, PipelineSchedule.GPipe, replicas: 2));
        Assert.Contains("use 1, 3, 6 or 12 replicas", e.Message);

        Assert.Equal([1, 2, 4, 8], ReplicaSplit.ExactCounts(8, 1, 10));
        Assert.Equal([3, 6, 12], ReplicaSplit.ExactCounts(12, 2, 12));
        Assert.True(ReplicaSplit.IsExact(5, 1));
        Assert.False(ReplicaSplit.IsExact(8, 3));
    }

    [Fact]
    public void Three_replicas_of_twelve_micro_batches_match_the_reference_too()
    {
        // k = 4 per replica: the replica totals meet the reference tree at (0..3 + 4..7) + 8..11.
        var options = TinyModel.Options(microBatches: 12, steps: 3);
        var (expected, _) = Reference(options, 3);
        using var trainer = new PipelineTrainer(options, StagePlan.Balanced(options.Model, 2), TinyModel.Corpus, PipelineSchedule.GPipe, replicas: 3);
        BitAssert.Equal(expected, Enumerable.Range(0, 3).Select(_ => trainer.TrainStep().Loss).ToList(), "losses with 3 replicas of 4 micro-batches");
    }

    [Fact]
    public void Shrinking_and_growing_between_steps_keeps_the_trajectory()
    {
        // An elastic job's history: 4 replicas, a failure leaves 2, then 1, then nodes join and it runs 4 again. Each
        // change restarts from the state the previous replicas saved at a step boundary.
        var options = TinyModel.Options(microBatches: 4, steps: Steps);
        var (expected, expectedParameters) = Reference(options, Steps);
        var plan = StagePlan.Balanced(options.Model, 2);
        var losses = new List<double>();
        string directory = TinyModel.TempDirectory();
        try
        {
            foreach (var (replicas, steps) in new[] { (4, 2), (2, 2), (1, 2), (4, 2) })
            {
                using var trainer = new PipelineTrainer(options, plan, TinyModel.Corpus, PipelineSchedule.OneForwardOneBackward, replicas);
                if (losses.Count > 0) trainer.LoadState(directory);
                for (int i = 0; i < steps; i++) losses.Add(trainer.TrainStep().Loss);
                trainer.SaveState(directory);
                if (losses.Count == Steps)
                    BitAssert.Equal(expectedParameters, trainer.ParameterValues(replicas - 1), "parameters after the elastic run");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
        BitAssert.Equal(expected, losses, "loss trajectory across replica counts 4 → 2 → 1 → 4");
    }

    [Fact]
    public void A_chunked_reduction_gives_the_same_bits_as_a_whole_one()
    {
        var random = new Random(7);
        float[][] totals = [.. Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 1001).Select(_ => (float)(random.NextDouble() * 2e3 - 1e3) * 1e-3f).ToArray())];
        float[] whole = ReplicaReduction.Sum(totals);
        var chunked = new float[whole.Length];
        for (int c = 0; c < 6; c++)
        {
            var (start, end) = ReplicaReduction.Chunk(whole.Length, 6, c);
            ReplicaReduction.Sum([.. totals.Select(t => t[start..end])]).CopyTo(chunked, start);
        }
        Assert.Equal(whole, chunked);
        Assert.Equal(((float)((double)totals[0][0] + totals[1][0]) + (float)((double)totals[2][0] + totals[3][0])) + (float)((double)totals[4][0] + totals[5][0]), whole[0]);
    }

    private static (List<double> Losses, IReadOnlyDictionary<string, float[]> Parameters) Reference(Kernels.Config.TrainerOptions options, int steps)
    {
        using var reference = new ReferenceTrainer(options, TinyModel.Corpus);
        var losses = Enumerable.Range(0, steps).Select(_ => reference.TrainStep().Loss).ToList();
        return (losses, reference.ParameterValues());
    }
}
