namespace Cluster.Grains.Jobs;

/// <summary>
/// Finds a job's straggler: the node whose device time per unit of planned work exceeds <c>factor</c> × the median of
/// the job's other nodes for <c>consecutiveSteps</c> steps in a row. Work is normalised by each stage's planned cost so
/// that an embedding-heavy first stage is not mistaken for a slow node. Each node is reported once until
/// <see cref="Reset"/> (a new placement), or again after <see cref="Unreported"/>. Pure; not thread-safe.
/// </summary>
public sealed class StragglerDetector
{
    private readonly double _factor;
    private readonly int _consecutiveSteps;
    private readonly Dictionary<string, int> _streaks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    public StragglerDetector(double factor, int consecutiveSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(factor, 1.0);
        ArgumentOutOfRangeException.ThrowIfLessThan(consecutiveSteps, 1);
        _factor = factor;
        _consecutiveSteps = consecutiveSteps;
    }

    /// <summary>Forgets streaks and reports (the job placed its stages again).</summary>
    public void Reset()
    {
        _streaks.Clear();
        _reported.Clear();
    }

    /// <summary>The report of <paramref name="nodeId"/> did not reach the scheduler: reported again while its streak lasts.</summary>
    public void Unreported(string nodeId) => _reported.Remove(nodeId);

    /// <summary>
    /// Feeds one step: node, device ms and planned cost per stage. Returns the node to report (with why), or null.
    /// Nodes hosting several stages are judged on their summed time over summed cost. Needs two nodes or more.
    /// </summary>
    public (string NodeId, string Reason)? Observe(IReadOnlyList<string> nodeByStage, IReadOnlyList<double> msByStage, IReadOnlyList<double> costByStage)
    {
        ArgumentNullException.ThrowIfNull(nodeByStage);
        ArgumentNullException.ThrowIfNull(msByStage);
        ArgumentNullException.ThrowIfNull(costByStage);
        if (nodeByStage.Count != msByStage.Count || nodeByStage.Count != costByStage.Count)
            throw new ArgumentException("nodeByStage, msByStage and costByStage must have one entry per stage.");

        var ms = new Dictionary<string, double>(StringComparer.Ordinal);
        var cost = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int s = 0; s < nodeByStage.Count; s++)
        {
            ms[nodeByStage[s]] = ms.GetValueOrDefault(nodeByStage[s]) + msByStage[s];
            cost[nodeByStage[s]] = cost.GetValueOrDefault(nodeByStage[s]) + costByStage[s];
        }
        if (ms.Count < 2) return null;
        var pace = ms.ToDictionary(n => n.Key, n => n.Value / Math.Max(cost[n.Key], double.Epsilon), StringComparer.Ordinal);

        (string NodeId, string Reason, double Ratio)? worst = null;
        foreach (var (node, mine) in pace.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            double median = Median(pace.Where(p => p.Key != node).Select(p => p.Value));
            double ratio = median > 0 ? mine / median : 1;
            int streak = _streaks[node] = ratio > _factor ? _streaks.GetValueOrDefault(node) + 1 : 0;
            if (streak >= _consecutiveSteps && !_reported.Contains(node) && (worst is null || ratio > worst.Value.Ratio))
                worst = (node, $"{ratio:F1}× the median pace of the job's other nodes for {streak} steps in a row", ratio);
        }
        foreach (string gone in _streaks.Keys.Where(n => !pace.ContainsKey(n)).ToArray())
            _streaks.Remove(gone);
        if (worst is not { } found) return null;
        _reported.Add(found.NodeId);
        return (found.NodeId, found.Reason);
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        if (sorted.Length == 0) return 0;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
