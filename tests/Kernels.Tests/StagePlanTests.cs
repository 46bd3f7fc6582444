using Cluster.Kernels.Config;
using Cluster.Kernels.Model;

namespace Cluster.Kernels.Tests;

/// <summary>Stage plans: contiguous non-empty stages covering every unit, optimal balance, clear errors.</summary>
public sealed class StagePlanTests
{
    /// <summary>Configs whose unit costs differ in shape: the tiny model, a heavy LM head, many cheap layers.</summary>
    public static TheoryData<string> Configs => new() { "tiny", "heavy-head", "many-layers" };

    private static ModelConfig ConfigNamed(string name) => name switch
    {
        "tiny" => TinyModel.Config,
        "heavy-head" => TinyModel.Config with { VocabSize = 50_000, Layers = 5 },
        "many-layers" => TinyModel.Config with { Layers = 10, ContextLength = 512, VocabSize = 64 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Fact]
    public void Balanced_plans_have_contiguous_non_empty_stages_covering_every_unit()
    {
        var config = TinyModel.Config;
        int units = ModelLayout.UnitCount(config);
        Assert.Equal(6, units);
        for (int stages = 1; stages <= units; stages++)
        {
            var plan = StagePlan.Balanced(config, stages);
            Assert.Equal(stages, plan.StageCount);
            Assert.Equal(0, plan.UnitRange(0).Start);
            Assert.Equal(units, plan.UnitRange(stages - 1).End);
            for (int s = 0; s < stages; s++)
            {
                var (start, end) = plan.UnitRange(s);
                Assert.True(end > start, $"stage {s} of {plan} is empty");
                if (s > 0) Assert.Equal(plan.UnitRange(s - 1).End, start);
                Assert.Equal(end - start, plan.UnitsPerStage[s]);
            }
            Assert.Equal(units, plan.UnitsPerStage.Sum());
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Balanced_minimises_the_most_expensive_stage_like_brute_force(string configName)
    {
        var config = ConfigNamed(configName);
        int units = ModelLayout.UnitCount(config);
        var costs = Enumerable.Range(0, units).Select(u => ModelLayout.UnitCost(config, u)).ToArray();
        for (int stages = 1; stages <= units; stages++)
        {
            var plan = StagePlan.Balanced(config, stages);
            double planMax = Enumerable.Range(0, plan.StageCount).Max(plan.StageCost);
            double bruteMax = BruteForceMinMax(costs, stages);
            Assert.True(Math.Abs(planMax - bruteMax) <= 1e-9 * bruteMax,
                $"{configName}, {stages} stages: Balanced gives max stage cost {planMax:R} ({plan}), brute force finds {bruteMax:R}.");
        }
    }

    /// <summary>Tries every placement of stages - 1 cuts among the units - 1 boundaries.</summary>
    private static double BruteForceMinMax(double[] costs, int stages)
    {
        double best = double.PositiveInfinity;
        var cuts = new int[stages - 1];

        void Place(int index, int firstFree)
        {
            if (index == cuts.Length)
            {
                double worst = 0;
                int start = 0;
                for (int s = 0; s < stages; s++)
                {
                    int end = s < cuts.Length ? cuts[s] : costs.Length;
                    double cost = 0;
                    for (int u = start; u < end; u++) cost += costs[u];
                    worst = Math.Max(worst, cost);
                    start = end;
                }
                best = Math.Min(best, worst);
                return;
            }
            for (int boundary = firstFree; boundary <= costs.Length - (cuts.Length - index); boundary++)
            {
                cuts[index] = boundary;
                Place(index + 1, boundary + 1);
            }
        }

        Place(0, 1);
        return best;
    }

    [Fact]
    public void Balanced_is_deterministic()
    {
        for (int stages = 1; stages <= 6; stages++)
            Assert.Equal(StagePlan.Balanced(TinyModel.Config, stages), StagePlan.Balanced(TinyModel.Config, stages));
    }

    [Fact]
    public void Stage_of_unit_agrees_with_unit_range()
    {
        var configs = new[] { TinyModel.Config, ConfigNamed("heavy-head"), ConfigNamed("many-layers") };
        foreach (var config in configs)
        {
            int units = ModelLayout.UnitCount(config);
            for (int stages = 1; stages <= units; stages++)
            {
                var plan = StagePlan.Balanced(config, stages);
                for (int unit = 0; unit < units; unit++)
                {
                    int stage = plan.StageOfUnit(unit);
                    var (start, end) = plan.UnitRange(stage);
                    Assert.True(unit >= start && unit < end, $"unit {unit} is said to be on stage {stage} [{start}, {end}) of {plan}");
                }
                Assert.Throws<ArgumentOutOfRangeException>(() => plan.StageOfUnit(units));
                Assert.Throws<ArgumentOutOfRangeException>(() => plan.StageOfUnit(-1));
            }
        }
    }

    [Fact]
    public void From_layer_counts_builds_the_plan_with_embedding_first_and_head_last()
    {
        var plan = StagePlan.FromLayerCounts(TinyModel.Config, [0, 1, 3, 0]);
        Assert.Equal(new[] { 1, 1, 3, 1 }, plan.UnitsPerStage);
        Assert.Equal((0, 1), plan.UnitRange(0)); // embedding alone
        Assert.Equal((5, 6), plan.UnitRange(3)); // head alone

        var two = StagePlan.FromLayerCounts(TinyModel.Config, [2, 2]);
        Assert.Equal(new[] { 3, 3 }, two.UnitsPerStage); // embed + 2 blocks | 2 blocks + head
    }

    [Fact]
    public void From_layer_counts_reports_every_problem_at_once()
    {
        // TinyModel has 4 layers: stage 1 is negative, stage 2 is an empty middle stage, and 2 + 1 ≠ 4.
        var e = Assert.Throws<ConfigValidationException>(() => StagePlan.FromLayerCounts(TinyModel.Config, [2, -1, 0, 1]));

        Assert.Equal(3, e.Problems.Count);
        Assert.Single(e.Problems, p => p.StartsWith("Stage 1 has -1 layers", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.StartsWith("Stage 2 has 0 layers", StringComparison.Ordinal));
        Assert.Single(e.Problems, p => p.Contains("add up to 3", StringComparison.Ordinal) && p.Contains("has 4 layers", StringComparison.Ordinal));
    }

    [Fact]
    public void From_layer_counts_rejects_an_empty_list()
    {
        var e = Assert.Throws<ConfigValidationException>(() => StagePlan.FromLayerCounts(TinyModel.Config, []));
        Assert.Contains(e.Problems, p => p.Contains("empty", StringComparison.Ordinal));
    }

    [Fact]
    public void Balanced_with_more_stages_than_units_or_none_throws()
    {
        int units = ModelLayout.UnitCount(TinyModel.Config);
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => StagePlan.Balanced(TinyModel.Config, units + 1));
        Assert.Contains($"between 1 and {units}", tooMany.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => StagePlan.Balanced(TinyModel.Config, 0));
    }

    [Fact]
    public void Balanced_rejects_an_invalid_model_config()
    {
        Assert.Throws<ConfigValidationException>(() => StagePlan.Balanced(TinyModel.Config with { Heads = 5 }, 2));
    }
}
