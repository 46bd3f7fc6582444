using Cluster.Kernels.Config;
using Cluster.Kernels.Planning;

namespace Cluster.Kernels.Tests;

/// <summary>The planner's formulas against values worked out by hand, its refusals, and the preset sizes.</summary>
public sealed class TrainingPlannerTests
{
    // 4 blocks × d 64, 4 heads, vocab 100, context 32, bf16. Block = 12·64² + 13·64 = 49,984 parameters,
    // embeddings 100·64 + 32·64 = 8,448, head 2·64 + 64·100 = 6,528.
    private static readonly ModelShape s_tiny = new("tiny", 4, 64, 4, 100, 32);
    private static readonly FleetShape s_eight = new("8 GPUs", 8, 10_000_000, 4, 100, 100, 10);
    private static readonly TrainingShape s_batch8 = new(8, ShardOptimizerState: false, ReservedBytesPerGpu: 0);

    [Fact]
    public void Parameter_counts_follow_the_decoder_formula()
    {
        Assert.Equal(49_984, s_tiny.BlockParameters);
        Assert.Equal(8_448, s_tiny.EmbeddingParameters);
        Assert.Equal(6_528, s_tiny.HeadParameters);
        Assert.Equal(4 * 49_984 + 8_448 + 6_528, s_tiny.ParameterCount);
        // The same count as the trainable model's config (the demo GPT has 875,264 parameters).
        Assert.Equal(875_264, ModelShape.From(new ModelConfig(), "demo").ParameterCount);
    }

    [Fact]
    public void The_500B_preset_has_the_stated_dimensions_and_size()
    {
        var m = PlannerPresets.Decoder500B;
        Assert.Equal((120, 18_432, 144, 128_256, 8_192), (m.Layers, m.DModel, m.Heads, m.Vocab, m.Context));
        long d = 18_432, v = 128_256;
        long expected = 120 * (12 * d * d + 13 * d) + (v * d + 8_192 * d) + (2 * d + v * d);
        Assert.Equal(expected, m.ParameterCount);
        Assert.Equal(494_131_433_472, m.ParameterCount);
    }

    [Fact]
    public void Memory_per_gpu_of_the_heaviest_stage_matches_the_hand_computed_values()
    {
        // P=2, T=2, b=1, selective: D = 8 / (2·2) = 2, M = 8 / (1·2) = 4.
        var e = TrainingPlanner.Estimate(s_tiny, s_eight, s_batch8, new ParallelPlan(2, 2, 1, ActivationRecompute.Selective));
        Assert.Equal((2, 4, 8), (e.DataParallel, e.MicroBatches, e.GpusUsed));
        // Stage 0: 2 blocks + embeddings = 108,416 parameters; bf16 weights and gradients halved by T = 2.
        Assert.Equal(108_416, e.Memory.Weights);
        Assert.Equal(108_416, e.Memory.Gradients);
        Assert.Equal(108_416 * 12 / 2, e.Memory.OptimizerState); // fp32 master + two moments, not sharded
        // Selective: s·b·d·34/T = 32·64·34/2 = 34,816 per block and micro-batch; 2 blocks × min(P, M) = 2 in flight.
        Assert.Equal(2 * 34_816 * 2, e.Memory.Activations);
        Assert.Equal(108_416 * 2 + 650_496 + 139_264, e.Memory.Total);
        Assert.Equal(1.0 / 5, e.BubbleFraction, 12); // (P − 1) / (M + P − 1)
    }

    [Fact]
    public void The_last_stage_counts_its_logits_and_wins_when_it_is_heavier()
    {
        // P=4, T=1, b=4, full recompute: D = 2, M = 1; stage 0 = 1 block + embeddings, stage 3 = 1 block + head + fp32 logits.
        var e = TrainingPlanner.Estimate(s_tiny, s_eight, s_batch8, new ParallelPlan(4, 1, 4, ActivationRecompute.Full));
        Assert.Equal((2, 1), (e.DataParallel, e.MicroBatches));
        long full = 32 * 4 * 64 * 2;                      // 2 bytes per token and d
        long none = 32 * 4 * 64 * (34 + 5 * 4 * 32 / 64); // the block being recomputed
        long first = 2 * (49_984 + 8_448) * 2 + 12 * (49_984 + 8_448) + full + none;
        long logits = 4L * 32 * 4 * 100;
        long last = 2 * (49_984 + 6_528) * 2 + 12 * (49_984 + 6_528) + full + none + logits;
        Assert.True(last > first);
        Assert.Equal(2 * (49_984 + 6_528), e.Memory.Weights);
        Assert.Equal(full + none + logits, e.Memory.Activations);
        Assert.Equal(last, e.Memory.Total);
    }

    [Fact]
    public void Sharding_the_optimizer_divides_its_state_by_the_data_parallel_degree()
    {
        var plan = new ParallelPlan(1, 1, 1, ActivationRecompute.None);
        var whole = TrainingPlanner.Estimate(s_tiny, s_eight, s_batch8, plan);
        var sharded = TrainingPlanner.Estimate(s_tiny, s_eight, s_batch8 with { ShardOptimizerState = true }, plan);
        Assert.Equal(8, whole.DataParallel);
        Assert.Equal(s_tiny.ParameterCount * 12, whole.Memory.OptimizerState);
        Assert.Equal((s_tiny.ParameterCount * 12 + 7) / 8, sharded.Memory.OptimizerState);
        // Without recomputation each block keeps 34 + 5·a·s/d = 44 bytes per token and d.
        Assert.Equal(4 * 32 * 64 * 44 + 4 * 32 * 100, whole.Memory.Activations);
    }

    [Fact]
    public void A_layout_that_does_not_fit_is_refused_with_its_memory_and_what_to_change()
    {
        var small = s_eight with { GpuMemoryBytes = 1_000_000 };
        var e = TrainingPlanner.Estimate(s_tiny, small, s_batch8, new ParallelPlan(2, 2, 1, ActivationRecompute.Selective));
        Assert.False(e.Fits);
        Assert.Contains("needs 1.0 MB (weights 108.4 kB, gradients 108.4 kB, optimizer 650.5 kB, activations 139.3 kB, reserved 0.0 kB) per GPU", e.Reason, StringComparison.Ordinal);
        Assert.Contains("a GPU has 1.0 MB", e.Reason, StringComparison.Ordinal);
        Assert.Contains("shard the optimizer state", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5, 1, "at least one block")]
    [InlineData(1, 8, "inside a node")]
    [InlineData(1, 3, "does not divide the 4 attention heads")]
    public void An_impossible_layout_is_refused_with_the_rule_it_breaks(int pipeline, int tensor, string expected)
    {
        var e = TrainingPlanner.Estimate(s_tiny, s_eight, s_batch8, new ParallelPlan(pipeline, tensor, 1, ActivationRecompute.None));
        Assert.False(e.Fits);
        Assert.Equal(0, e.DataParallel);
        Assert.Contains(expected, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_planner_takes_the_fastest_layout_that_fits_and_refuses_when_none_does()
    {
        var result = TrainingPlanner.Plan(PlannerPresets.Decoder500B, FleetShape.H100(16_384), new TrainingShape(2_048));
        var best = Assert.IsType<PlanEstimate>(result.Best);
        Assert.True(best.Fits);
        Assert.True(best.Memory.Total <= 80_000_000_000);
        Assert.All(result.Considered.Where(c => c.StepSeconds < best.StepSeconds), faster => Assert.False(faster.Fits));

        var tooFew = TrainingPlanner.Plan(PlannerPresets.Decoder500B, FleetShape.H100(8), new TrainingShape(2_048));
        Assert.Null(tooFew.Best);
        Assert.Contains("No layout fits decoder-494B", tooFew.Refusal, StringComparison.Ordinal);
        Assert.Contains("per GPU but a GPU has 80.0 GB", tooFew.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void More_memory_allows_a_layout_at_least_as_fast()
    {
        var training = new TrainingShape(2_048);
        var h100 = TrainingPlanner.Plan(PlannerPresets.Decoder500B, FleetShape.H100(16_384), training).Best!;
        var h200 = TrainingPlanner.Plan(PlannerPresets.Decoder500B, FleetShape.H200(16_384), training).Best!;
        Assert.True(h200.StepSeconds <= h100.StepSeconds);
    }

    [Fact]
    public void Bad_input_names_every_problem()
    {
        var e = Assert.Throws<ConfigValidationException>(() =>
            TrainingPlanner.Plan(s_tiny with { Heads = 5 }, s_eight with { Gpus = 0 }, s_batch8 with { ComputeEfficiency = 2 }));
        Assert.Equal(3, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Contains("heads = 5", StringComparison.Ordinal));
    }
}
