using Cluster.Kernels.Model;
using Cluster.Kernels.Training;

namespace Cluster.Kernels.Tests;

/// <summary>
/// A checkpoint written by one partition resumes under another (and under the reference trainer) with the exact
/// loss trajectory and parameters of an uninterrupted reference run.
/// </summary>
public sealed class ReshardingTests : IDisposable
{
    private const int Steps = 20;
    private const int Half = Steps / 2;

    private readonly string _directory = TinyModel.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (List<double> Losses, IReadOnlyDictionary<string, float[]> Parameters) Reference()
    {
        using var reference = new ReferenceTrainer(TinyModel.Options(steps: Steps), TinyModel.Corpus);
        var losses = Enumerable.Range(0, Steps).Select(_ => reference.TrainStep().Loss).ToList();
        return (losses, reference.ParameterValues());
    }

    /// <summary>Trains the first half on 2 stages and saves it into <see cref="_directory"/>; returns its losses.</summary>
    private List<double> TrainFirstHalfOnTwoStagesAndSave()
    {
        var options = TinyModel.Options(steps: Steps);
        using var pipeline = new PipelineTrainer(options, StagePlan.Balanced(options.Model, 2), TinyModel.Corpus);
        var losses = Enumerable.Range(0, Half).Select(_ => pipeline.TrainStep().Loss).ToList();
        Assert.Equal(Half, pipeline.CompletedSteps);
        pipeline.SaveState(_directory);
        return losses;
    }

    [Fact]
    public void Two_stage_checkpoint_resumes_on_three_stages_bit_identically()
    {
        var (expectedLosses, expectedParameters) = Reference();
        var losses = TrainFirstHalfOnTwoStagesAndSave();

        var options = TinyModel.Options(steps: Steps);
        var plan = StagePlan.Balanced(options.Model, 3);
        using var resumed = new PipelineTrainer(options, plan, TinyModel.Corpus);
        resumed.LoadState(_directory);
        Assert.Equal(Half, resumed.CompletedSteps);
        Assert.All(resumed.Stages, stage => Assert.Equal(Half, stage.CompletedSteps));
        losses.AddRange(Enumerable.Range(0, Half).Select(_ => resumed.TrainStep().Loss));

        BitAssert.Equal(expectedLosses, losses, $"losses of 2 stages then 3 stages ({plan})");
        BitAssert.Equal(expectedParameters, resumed.ParameterValues(), "parameters after resharding 2 → 3 stages");
    }

    [Fact]
    public void Reference_trainer_resumes_from_a_two_stage_checkpoint_bit_identically()
    {
        var (expectedLosses, expectedParameters) = Reference();
        var losses = TrainFirstHalfOnTwoStagesAndSave();

        using var reference = new ReferenceTrainer(TinyModel.Options(steps: Steps), TinyModel.Corpus);
        reference.LoadState(_directory);
        Assert.Equal(Half, reference.CompletedSteps);
        losses.AddRange(Enumerable.Range(0, Half).Select(_ => reference.TrainStep().Loss));

        BitAssert.Equal(expectedLosses, losses, "losses of 2 stages then the reference trainer");
        BitAssert.Equal(expectedParameters, reference.ParameterValues(), "parameters after resuming on the reference trainer");
    }

    [Fact]
    public void Checkpoint_directory_holds_exactly_one_file_per_unit()
    {
        TrainFirstHalfOnTwoStagesAndSave();

        var config = TinyModel.Config;
        var expected = Enumerable.Range(0, ModelLayout.UnitCount(config))
            .Select(u => ModelLayout.UnitName(config, u) + ".safetensors")
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(new[] { "block.0.safetensors", "block.1.safetensors", "block.2.safetensors", "block.3.safetensors", "embed.safetensors", "head.safetensors" }, expected);
        // No temporary files of the atomic writes may be left behind either.
        var actual = Directory.GetFileSystemEntries(_directory).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual);
    }
}
