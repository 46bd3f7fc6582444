namespace Cluster.Bench.Tests;

public sealed class PipelineRatiosTests
{
    [Fact]
    public void A_round_sets_the_data_parallel_contender_against_twice_the_one_thread_reference_and_against_two_at_once()
    {
        var ratios = Round(oneSilo: 19_000, dataParallel2: 15_000);

        Assert.Equal(0.95, ratios.Ratio1Silo, 12);
        Assert.Equal(0.9, ratios.Ratio3Silo, 12);
        Assert.Equal(0.75, ratios.RatioDp2, 12);
        Assert.Equal(0.85, ratios.CeilingDp2, 12);
        Assert.Equal(15_000.0 / 17_000, ratios.Dp2OfCeiling, 12);
    }

    [Fact]
    public void The_result_line_gives_each_ratio_as_its_median_over_the_rounds_with_the_worst_round_beside_it()
    {
        // Rounds in the order measured; the median is the middle one whichever round it was, the worst the lowest.
        var rounds = new PipelineRounds([Round(oneSilo: 19_000, dataParallel2: 15_000), Round(oneSilo: 16_000, dataParallel2: 16_000), Round(oneSilo: 19_400, dataParallel2: 13_600)]);

        string[] fields = rounds.ResultLine().Split(' ');
        Assert.Equal("RESULT", fields[0]);
        Assert.Contains("ratio_1silo=0.950", fields);
        Assert.Contains("ratio_1silo_min=0.800", fields);
        Assert.Contains("ratio_3silo=0.900", fields);
        Assert.Contains("ratio_3silo_min=0.900", fields);
        Assert.Contains("ratio_dp2=0.750", fields);
        Assert.Contains("ratio_dp2_min=0.680", fields);
        Assert.Contains("reference_1thread_tokens_per_s=10000", fields);
        Assert.Contains("dp2_tokens_per_s=15000", fields);
        Assert.Contains("dp2_ceiling=0.850", fields);
        Assert.Contains("dp2_of_ceiling=0.882", fields);
        Assert.Contains("dp2_of_ceiling_min=0.800", fields);
        Assert.Contains("reference_1thread_x2_tokens_per_s=17000", fields);
        Assert.Contains("snapshot_interval=1", fields);
        Assert.Contains("checkpoint_interval=10", fields);
        Assert.Contains("warmup_steps=80", fields);
        Assert.Contains("rounds=3", fields);
    }

    [Fact]
    public async Task Zero_rounds_are_refused_naming_the_fix()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => PipelineBenchmark.RunAsync(BenchArguments.Parse(["--rounds", "0"])));
        Assert.Contains("--rounds 0: use 1 or more", error.Message, StringComparison.Ordinal);
    }

    private static PipelineRatios Round(double oneSilo, double dataParallel2) =>
        new(Reference: 20_000, OneSilo: oneSilo, ThreeSilos: 18_000, ReferenceOneThread: 10_000, DataParallel2: dataParallel2,
            SnapshotInterval: 1, CheckpointInterval: 10, WarmupSteps: 80, TwoReferencesAtOnce: 17_000);

    [Fact]
    public async Task An_unknown_contender_is_refused_naming_every_one_including_dp2()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => PipelineBenchmark.RunAsync(BenchArguments.Parse(["--mode", "dp3", "--steps", "1", "--warmup", "0"])));
        Assert.Contains("dp2", error.Message, StringComparison.Ordinal);
        Assert.Contains("reference1", error.Message, StringComparison.Ordinal);
    }
}
