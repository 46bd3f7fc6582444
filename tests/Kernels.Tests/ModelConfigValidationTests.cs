using Cluster.Kernels.Config;

namespace Cluster.Kernels.Tests;

/// <summary>Config validation lists every problem at once, each naming its field.</summary>
public sealed class ModelConfigValidationTests
{
    [Fact]
    public void Model_config_with_several_bad_fields_lists_every_problem()
    {
        var config = new ModelConfig { DModel = 30, Heads = 4, Layers = 0, VocabSize = 1 };

        var e = Assert.Throws<ConfigValidationException>(() => config.EnsureValid());

        Assert.Equal(3, e.Problems.Count);
        Assert.Single(e.Problems, p => p.StartsWith("VocabSize = 1", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("Layers = 0", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.Contains("DModel = 30", StringComparison.Ordinal) && p.Contains("Heads = 4", StringComparison.Ordinal));
        Assert.Contains("3 problems", e.Message, StringComparison.Ordinal);
        foreach (string problem in e.Problems)
            Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Heads_not_dividing_d_model_suggests_a_head_count_that_does()
    {
        var e = Assert.Throws<ConfigValidationException>(() => new ModelConfig { DModel = 30, Heads = 4 }.EnsureValid());
        string problem = Assert.Single(e.Problems);
        Assert.Contains("e.g. 3", problem, StringComparison.Ordinal); // 30 % 3 == 0, the nearest divisor of 30 to 4
    }

    [Fact]
    public void Default_and_tiny_model_configs_are_valid()
    {
        var config = new ModelConfig();
        Assert.Empty(config.Validate());
        Assert.Same(config, config.EnsureValid());
        Assert.Empty(TinyModel.Config.Validate());
    }

    [Fact]
    public void Optimizer_config_with_several_bad_fields_lists_every_problem()
    {
        var config = new OptimizerConfig
        {
            LearningRate = 1e-3,
            MinLearningRate = 1e-2, // above the peak
            WarmupSteps = -1,
            Beta1 = 1.0,
            Beta2 = double.NaN,
            Epsilon = 0,
            WeightDecay = -0.1,
            ClipNorm = double.PositiveInfinity,
        };

        var e = Assert.Throws<ConfigValidationException>(() => config.EnsureValid());

        string[] fields = ["MinLearningRate", "WarmupSteps", "Beta1", "Beta2", "Epsilon", "WeightDecay", "ClipNorm"];
        Assert.Equal(fields.Length, e.Problems.Count);
        foreach (string field in fields)
            Assert.Single(e.Problems, p => p.StartsWith(field + " = ", StringComparison.Ordinal));
        Assert.StartsWith("Optimizer config is invalid (7 problems)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Optimizer_warm_up_longer_than_decay_and_bad_learning_rate_are_reported()
    {
        var e = Assert.Throws<ConfigValidationException>(() =>
            new OptimizerConfig { LearningRate = 0, MinLearningRate = 0, WarmupSteps = 50, DecaySteps = 10 }.EnsureValid());
        Assert.Equal(2, e.Problems.Count);
        Assert.Single(e.Problems, p => p.StartsWith("LearningRate = 0", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("WarmupSteps = 50 exceeds DecaySteps = 10", StringComparison.Ordinal));
    }

    [Fact]
    public void Default_optimizer_config_is_valid()
    {
        var config = new OptimizerConfig();
        Assert.Empty(config.Validate());
        Assert.Same(config, config.EnsureValid());
    }

    [Fact]
    public void Trainer_options_prefix_nested_problems_with_model_and_optimizer()
    {
        var options = new TrainerOptions
        {
            Model = new ModelConfig { Layers = 0 },
            Optimizer = new OptimizerConfig { Epsilon = -1 },
            MicroBatchSize = 0,
            MicroBatches = 0,
            Threads = -2,
            Device = " ",
        };

        var e = Assert.Throws<ConfigValidationException>(() => options.EnsureValid());

        Assert.Equal(6, e.Problems.Count);
        Assert.Single(e.Problems, p => p.StartsWith("Model.Layers = 0", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("Optimizer.Epsilon = -1", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("MicroBatchSize = 0", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("MicroBatches = 0", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("Threads = -2", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("Device is empty", StringComparison.Ordinal));
        Assert.StartsWith("Trainer options is invalid (6 problems)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_and_tiny_trainer_options_are_valid()
    {
        Assert.Empty(new TrainerOptions().Validate());
        var tiny = TinyModel.Options();
        Assert.Same(tiny, tiny.EnsureValid());
    }
}
