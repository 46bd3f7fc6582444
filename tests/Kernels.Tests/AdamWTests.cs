using Cluster.Kernels.Compute;
using Cluster.Kernels.Config;
using Cluster.Kernels.Training;
using AdamW = Cluster.Kernels.Training.AdamW;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>Kernels' AdamW is torch.optim.AdamW's update, and the learning-rate schedule has the documented shape.</summary>
public sealed class AdamWTests
{
    private const int Steps = 5;
    private const double LearningRate = 1e-2;

    private static readonly OptimizerConfig s_config = new()
    {
        LearningRate = LearningRate, Beta1 = 0.9, Beta2 = 0.95, Epsilon = 1e-8, WeightDecay = 0.1,
    };

    [Fact]
    public void AdamW_matches_torch_optim_AdamW_over_five_steps()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(2024, CPU);
        var initialWeight = randn([3, 4], ScalarType.Float32, CPU, generator: generator);
        var initialBias = randn([4], ScalarType.Float32, CPU, generator: generator);
        var weightGradients = Enumerable.Range(0, Steps).Select(_ => randn([3, 4], ScalarType.Float32, CPU, generator: generator)).ToArray();
        var biasGradients = Enumerable.Range(0, Steps).Select(_ => randn([4], ScalarType.Float32, CPU, generator: generator)).ToArray();

        // Ours: one optimizer, the matrix decays and the bias does not (as Kernels assigns decay).
        var weight = initialWeight.clone();
        var bias = initialBias.clone();
        using (var ours = new AdamW(s_config, [(weight, true), (bias, false)]))
        {
            for (int step = 0; step < Steps; step++)
                ours.Step([weightGradients[step], biasGradients[step]], LearningRate);
            Assert.Equal(Steps, ours.Steps);
        }

        // torch's: weight decay is per optimizer there, so one with decay for the matrix and one without for the bias.
        var torchWeight = new Parameter(initialWeight.clone());
        var torchBias = new Parameter(initialBias.clone());
        var decaying = optim.AdamW([torchWeight], LearningRate, s_config.Beta1, s_config.Beta2, s_config.Epsilon, s_config.WeightDecay);
        var plain = optim.AdamW([torchBias], LearningRate, s_config.Beta1, s_config.Beta2, s_config.Epsilon, 0.0);
        for (int step = 0; step < Steps; step++)
        {
            decaying.zero_grad();
            plain.zero_grad();
            var loss = (torchWeight * weightGradients[step]).sum().add((torchBias * biasGradients[step]).sum(), KeptScalars.One); // d loss / d p = g
            loss.backward();
            decaying.step();
            plain.step();
        }

        // Not bit-exact on purpose: torch.optim.AdamW is a separate implementation that may order or fuse the
        // element-wise operations differently (bias corrections, decay, denominator), and float32 rounding of
        // mathematically equal expressions can then differ by an ulp or so. Bit-exactness matters only between our
        // own trainers and partitions, which all run this one AdamW class; against torch we show the update rule.
        AssertClose(torchWeight, weight, "weight (with decay)");
        AssertClose(torchBias, bias, "bias (without decay)");
        Assert.False(weight.allclose(initialWeight), "the optimizer must have moved the weight");
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var e = expected.detach().data<float>().ToArray();
        var a = actual.detach().data<float>().ToArray();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
        {
            double tolerance = 1e-6 * Math.Max(Math.Abs(e[i]), 1e-3);
            Assert.True(Math.Abs(a[i] - e[i]) <= tolerance, $"{what}[{i}]: torch {e[i]:R}, ours {a[i]:R}");
        }
    }

    [Fact]
    public void AdamW_rejects_a_gradient_count_that_does_not_match()
    {
        using var scope = NewDisposeScope();
        var p = zeros(2);
        using var ours = new AdamW(s_config, [(p, false)]);
        Assert.Throws<ArgumentException>(() => ours.Step([zeros(2), zeros(2)], LearningRate)); // two gradients, one parameter
        Assert.Equal(0, ours.Steps);
    }

    private static readonly OptimizerConfig s_schedule = new()
    {
        LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 10, DecaySteps = 100,
    };

    [Fact]
    public void Warm_up_is_linear_up_to_the_peak()
    {
        int w = s_schedule.WarmupSteps;
        for (int step = 0; step < w; step++)
        {
            double expected = (step + 1) / (double)w * s_schedule.LearningRate;
            Assert.Equal(expected, LearningRateSchedule.At(s_schedule, step), 1e-15);
        }
        Assert.Equal(s_schedule.LearningRate, LearningRateSchedule.At(s_schedule, w - 1));
        Assert.Equal(s_schedule.LearningRate, LearningRateSchedule.At(s_schedule, w)); // the cosine starts at the peak
    }

    [Fact]
    public void Cosine_reaches_the_floor_at_decay_steps_and_stays_there()
    {
        Assert.True(LearningRateSchedule.At(s_schedule, s_schedule.DecaySteps - 1) > s_schedule.MinLearningRate);
        foreach (long step in new long[] { s_schedule.DecaySteps, s_schedule.DecaySteps + 1, 10 * s_schedule.DecaySteps, long.MaxValue })
            Assert.Equal(s_schedule.MinLearningRate, LearningRateSchedule.At(s_schedule, step));

        // Halfway through the decay the cosine is exactly halfway between peak and floor.
        long middle = s_schedule.WarmupSteps + (s_schedule.DecaySteps - s_schedule.WarmupSteps) / 2;
        Assert.Equal((s_schedule.LearningRate + s_schedule.MinLearningRate) / 2, LearningRateSchedule.At(s_schedule, middle), 1e-15);
    }

    [Fact]
    public void Schedule_never_rises_after_warm_up()
    {
        for (long step = s_schedule.WarmupSteps - 1; step < s_schedule.DecaySteps + 20; step++)
        {
            double now = LearningRateSchedule.At(s_schedule, step), next = LearningRateSchedule.At(s_schedule, step + 1);
            Assert.True(next <= now, $"the learning rate rises from {now:R} at step {step} to {next:R}");
        }
    }

    [Fact]
    public void Schedule_without_warm_up_starts_at_the_peak()
    {
        var config = s_schedule with { WarmupSteps = 0 };
        Assert.Equal(config.LearningRate, LearningRateSchedule.At(config, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.At(config, -1));
    }
}
