using Cluster.Kernels.Model;
using Cluster.Kernels.Training;

namespace Cluster.Kernels.Tests;

public sealed class PartitionEquivalenceTests
{
    private const int Steps = 20;

    [Fact]
    public void Every_partition_trains_bit_identically_to_the_reference_trainer() => AssertEveryPartitionMatchesTheReference(Steps);

    /// <summary>1–4 balanced stages against the reference trainer over <paramref name="steps"/> steps (also run under GC stress).</summary>
    internal static void AssertEveryPartitionMatchesTheReference(int steps)
    {
        var options = TinyModel.Options(steps: steps);
        List<double> referenceLosses;
        IReadOnlyDictionary<string, float[]> referenceParameters;
        using (var reference = new ReferenceTrainer(options, TinyModel.Corpus))
        {
            referenceLosses = Enumerable.Range(0, steps).Select(_ => reference.TrainStep().Loss).ToList();
            referenceParameters = reference.ParameterValues();
        }
        Assert.True(referenceLosses[^1] < referenceLosses[0], $"the loss should fall over {steps} steps: {referenceLosses[0]} → {referenceLosses[^1]}");

        foreach (int stages in new[] { 1, 2, 3, 4 })
        {
            var plan = StagePlan.Balanced(options.Model, stages);
            using var pipeline = new PipelineTrainer(options, plan, TinyModel.Corpus);
            var losses = Enumerable.Range(0, steps).Select(_ => pipeline.TrainStep().Loss).ToList();
            BitAssert.Equal(referenceLosses, losses, $"loss trajectory with {stages} stages ({plan})");
            BitAssert.Equal(referenceParameters, pipeline.ParameterValues(), $"parameters after {steps} steps with {stages} stages");
        }
    }

    [Fact]
    public void Explicit_and_uneven_partitions_are_bit_identical_too()
    {
        var options = TinyModel.Options(microBatches: 3, steps: 6);
        List<double> expected;
        using (var reference = new ReferenceTrainer(options, TinyModel.Corpus))
            expected = Enumerable.Range(0, 6).Select(_ => reference.TrainStep().Loss).ToList();

        // Embedding alone on stage 0, head alone on the last stage, and a 3-micro-batch (non power of two) tree.
        var plan = StagePlan.FromLayerCounts(options.Model, [0, 1, 3, 0]);
        using var pipeline = new PipelineTrainer(options, plan, TinyModel.Corpus);
        BitAssert.Equal(expected, Enumerable.Range(0, 6).Select(_ => pipeline.TrainStep().Loss).ToList(), $"losses with plan {plan}");
    }

    [Fact]
    public void One_forward_one_backward_schedule_gives_the_same_bits_as_gpipe()
    {
        var options = TinyModel.Options(steps: 8);
        var plan = StagePlan.Balanced(options.Model, 3);
        using var gpipe = new PipelineTrainer(options, plan, TinyModel.Corpus, PipelineSchedule.GPipe);
        using var interleaved = new PipelineTrainer(options, plan, TinyModel.Corpus, PipelineSchedule.OneForwardOneBackward);
        var expected = Enumerable.Range(0, 8).Select(_ => gpipe.TrainStep().Loss).ToList();
        BitAssert.Equal(expected, Enumerable.Range(0, 8).Select(_ => interleaved.TrainStep().Loss).ToList(), "1F1B vs GPipe losses");
        BitAssert.Equal(gpipe.ParameterValues(), interleaved.ParameterValues(), "1F1B vs GPipe parameters");
    }
}
