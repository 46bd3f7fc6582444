using Cluster.Kernels.Config;

namespace Cluster.Kernels.Model;

/// <summary>
/// Maps the model's units (embedding, blocks, head — see <see cref="ModelLayout"/>) onto P pipeline stages as
/// contiguous, non-empty ranges: stage 0 starts with the embedding, the last stage ends with the head.
/// </summary>
public sealed class StagePlan : IEquatable<StagePlan>
{
    private readonly int[] _starts; // _starts[s] = first unit of stage s; _starts[P] = unit count

    private StagePlan(ModelConfig config, int[] starts)
    {
        Config = config;
        _starts = starts;
    }

    public ModelConfig Config { get; }

    public int StageCount => _starts.Length - 1;

    /// <summary>Units of each stage, in order.</summary>
    public IReadOnlyList<int> UnitsPerStage => Enumerable.Range(0, StageCount).Select(s => _starts[s + 1] - _starts[s]).ToArray();

    /// <summary>First unit (inclusive) and end unit (exclusive) of a stage.</summary>
    public (int Start, int End) UnitRange(int stage)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stage);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stage, StageCount);
        return (_starts[stage], _starts[stage + 1]);
    }

    public int StageOfUnit(int unit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(unit);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(unit, _starts[^1]);
        int s = Array.BinarySearch(_starts, unit);
        return s >= 0 ? s : ~s - 1;
    }

    /// <summary>Cost of a stage under <see cref="ModelLayout.UnitCost"/>.</summary>
    public double StageCost(int stage)
    {
        var (start, end) = UnitRange(stage);
        double cost = 0;
        for (int u = start; u < end; u++) cost += ModelLayout.UnitCost(Config, u);
        return cost;
    }

    /// <summary>The whole model on one stage.</summary>
    public static StagePlan Single(ModelConfig config) => Balanced(config, 1);

    /// <summary>
    /// Cuts the model into <paramref name="stages"/> contiguous stages minimising the cost of the most expensive one
    /// (exact, by dynamic programming over unit boundaries); ties go to the earliest cut, so the plan is deterministic.
    /// Costs O(stages × units × log units): unit costs are positive, so each cell's best cut is found by bisection.
    /// </summary>
    public static StagePlan Balanced(ModelConfig config, int stages)
    {
        config.EnsureValid();
        int n = ModelLayout.UnitCount(config);
        if (stages < 1 || stages > n)
            throw new ArgumentOutOfRangeException(nameof(stages), stages,
                $"Stage count must be between 1 and {n} (the model has {config.Layers} layers plus embedding and head).");
        var prefix = new double[n + 1];
        for (int u = 0; u < n; u++) prefix[u + 1] = prefix[u] + ModelLayout.UnitCost(config, u);

        // best[p, i] = min over cuts of the max stage cost when the first i units form p stages.
        var best = new double[stages + 1, n + 1];
        var cut = new int[stages + 1, n + 1];
        for (int p = 0; p <= stages; p++)
            for (int i = 0; i <= n; i++) best[p, i] = double.PositiveInfinity;
        best[0, 0] = 0;
        for (int p = 1; p <= stages; p++)
        {
            for (int i = p; i <= n - (stages - p); i++)
            {
                // max(best[p-1, j], cost of units j..i) falls while the last stage's cost dominates and rises after:
                // find the crossing by bisection and try the cuts around it in ascending order, as a full scan would.
                int crossing = FirstCut(best, prefix, p - 1, i, p - 1, i - 1);
                for (int j = Math.Max(p - 1, crossing - 2); j <= Math.Min(i - 1, crossing + 2); j++)
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
        return new StagePlan(config, starts);
    }

    /// <summary>The first cut j in [lo, hi] where the first stages cost at least the last one (hi + 1 when none does).</summary>
    private static int FirstCut(double[,] best, double[] prefix, int stagesBefore, int end, int lo, int hi)
    {
        int first = hi + 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (best[stagesBefore, mid] >= prefix[end] - prefix[mid])
            {
                first = mid;
                hi = mid - 1;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return first;
    }

    /// <summary>
    /// A plan given as transformer layers per stage (the embedding joins stage 0, the head joins the last stage).
    /// Every problem is reported at once.
    /// </summary>
    public static StagePlan FromLayerCounts(ModelConfig config, IReadOnlyList<int> layersPerStage)
    {
        config.EnsureValid();
        ArgumentNullException.ThrowIfNull(layersPerStage);
        var problems = new List<string>();
        if (layersPerStage.Count == 0)
            problems.Add("Layers per stage is empty: give at least one stage.");
        for (int s = 0; s < layersPerStage.Count; s++)
        {
            if (layersPerStage[s] < 0)
                problems.Add($"Stage {s} has {layersPerStage[s]} layers: a count cannot be negative.");
            else if (layersPerStage[s] == 0 && s != 0 && s != layersPerStage.Count - 1)
                problems.Add($"Stage {s} has 0 layers: only the first stage (embedding only) or the last (head only) may hold no transformer layer.");
        }
        if (layersPerStage.Count == 1 && layersPerStage[0] == 0)
            problems.Add("A single stage must hold every layer.");
        int sum = layersPerStage.Where(c => c > 0).Sum();
        if (sum != config.Layers)
            problems.Add($"Layers per stage add up to {sum}, but the model has {config.Layers} layers: make them add up to {config.Layers}.");
        if (problems.Count > 0)
            throw new ConfigValidationException("Stage plan", problems);

        var starts = new int[layersPerStage.Count + 1];
        int unit = 0;
        for (int s = 0; s < layersPerStage.Count; s++)
        {
            starts[s] = unit;
            unit += layersPerStage[s] + (s == 0 ? 1 : 0) + (s == layersPerStage.Count - 1 ? 1 : 0);
        }
        starts[^1] = unit;
        return new StagePlan(config, starts);
    }

    /// <summary>A plan given as model units per stage (what <see cref="UnitsPerStage"/> returns): the wire form of a plan.</summary>
    public static StagePlan FromUnitCounts(ModelConfig config, IReadOnlyList<int> unitsPerStage)
    {
        config.EnsureValid();
        ArgumentNullException.ThrowIfNull(unitsPerStage);
        int units = ModelLayout.UnitCount(config);
        if (unitsPerStage.Count == 0 || unitsPerStage.Any(c => c < 1) || unitsPerStage.Sum() != units)
            throw new ConfigValidationException("Stage plan", [$"Units per stage [{string.Join(", ", unitsPerStage)}] must be positive and add up to the model's {units} units (embedding, {config.Layers} layers, head)."]);
        var starts = new int[unitsPerStage.Count + 1];
        for (int s = 0; s < unitsPerStage.Count; s++) starts[s + 1] = starts[s] + unitsPerStage[s];
        return new StagePlan(config, starts);
    }

    public bool Equals(StagePlan? other) =>
        other is not null && Config == other.Config && _starts.AsSpan().SequenceEqual(other._starts);

    public override bool Equals(object? obj) => Equals(obj as StagePlan);

    public override int GetHashCode() => HashCode.Combine(Config, StageCount, _starts[^1]);

    public override string ToString() =>
        string.Join(" | ", Enumerable.Range(0, StageCount).Select(s =>
        {
            var (start, end) = UnitRange(s);
            return $"stage {s}: {ModelLayout.UnitName(Config, start)}…{ModelLayout.UnitName(Config, end - 1)}";
        }));
}
