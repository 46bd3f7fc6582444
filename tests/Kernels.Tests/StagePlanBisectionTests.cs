using Cluster.Kernels.Config;
using Cluster.Kernels.Model;
using CsCheck;

namespace Cluster.Kernels.Tests;

/// <summary>
/// <see cref="StagePlan.Balanced"/> finds each cut by bisection (O(stages × units × log units)); it must choose exactly
/// the cuts the full O(stages × units²) scan chose, or running jobs would be cut differently after an upgrade.
/// </summary>
public sealed class StagePlanBisectionTests
{
    private static readonly Gen<(ModelConfig Config, int Stages)> s_plans =
        Gen.Select(Gen.Int[1, 48], Gen.Int[1, 8], Gen.Int[2, 70_000], Gen.Int[1, 2048], Gen.Int[1, 8])
            .SelectMany(t =>
            {
                var (layers, dScale, vocab, context, ratio) = t;
                var config = new ModelConfig { Layers = layers, DModel = 16 * dScale, Heads = 4, VocabSize = vocab, ContextLength = context, MlpRatio = ratio };
                return Gen.Int[1, layers + 2].Select(stages => (config, stages));
            });

    [Fact]
    public void Bisection_chooses_the_cuts_of_the_full_scan()
    {
        s_plans.Sample(p =>
        {
            var expected = FullScan(p.Config, p.Stages);
            var actual = StagePlan.Balanced(p.Config, p.Stages).UnitsPerStage;
            Assert.Equal(expected, actual);
        }, iter: 400);
    }

    [Fact]
    public void The_largest_model_plans_at_the_largest_stage_count()
    {
        var config = new ModelConfig { Layers = ModelConfig.MaxLayers, DModel = 64, Heads = 4, VocabSize = 256, ContextLength = 64 };
        var plan = StagePlan.Balanced(config, 256);
        Assert.Equal(256, plan.StageCount);
        Assert.Equal(ModelConfig.MaxLayers + 2, plan.UnitsPerStage.Sum());
    }

    /// <summary>The former planner, verbatim: every cut of every cell scanned in ascending order.</summary>
    private static int[] FullScan(ModelConfig config, int stages)
    {
        int n = ModelLayout.UnitCount(config);
        var prefix = new double[n + 1];
        for (int u = 0; u < n; u++) prefix[u + 1] = prefix[u] + ModelLayout.UnitCost(config, u);
        var best = new double[stages + 1, n + 1];
        var cut = new int[stages + 1, n + 1];
        for (int p = 0; p <= stages; p++)
            for (int i = 0; i <= n; i++) best[p, i] = double.PositiveInfinity;
        best[0, 0] = 0;
        for (int p = 1; p <= stages; p++)
        {
            for (int i = p; i <= n - (stages - p); i++)
            {
                for (int j = p - 1; j < i; j++)
                {
                    double candidate = Math.Max(best[p - 1, j], prefix[i] - prefix[j]);
                    if (candidate < best[p, i] - 1e-9 * Math.Abs(candidate))
                    {
                        best[p, i] = candidate;
                        cut[p, i] = j;
                    }
                }
            }
        }
        var starts = new int[stages + 1];
        starts[stages] = n;
        for (int p = stages, i = n; p > 0; p--)
        {
            i = cut[p, i];
            starts[p - 1] = i;
        }
        return [.. Enumerable.Range(0, stages).Select(s => starts[s + 1] - starts[s])];
    }
}
