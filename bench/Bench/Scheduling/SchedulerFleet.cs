using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Bench.Scheduling;

/// <summary>
/// A seeded fleet for placement benchmarks: hosts of 8 GPUs with 80 GB each and measured speeds that differ a little
/// (as calibration reports them, rounded to 0.01 GFLOP/s), and a job's stages of nearly equal cost.
/// </summary>
internal sealed record SchedulerFleet(PlacementCandidate[] Nodes, StageDemand[] Stages)
{
    public const int GpusPerHost = 8;
    private const long GB = 1_000_000_000;

    public static SchedulerFleet Create(int nodes, int stages, int seed = 42)
    {
        var random = new Random(seed);
        var candidates = new PlacementCandidate[nodes];
        for (int i = 0; i < nodes; i++)
        {
            string host = $"host-{i / GpusPerHost:D5}";
            candidates[i] = new PlacementCandidate($"{host}/gpu{i % GpusPerHost}", host,
                Math.Round(700_000 + random.NextDouble() * 50_000, 2), 80 * GB, 0);
        }
        // Stage 0 carries the embedding and the last stage the LM head: heavier than the blocks in between.
        var demands = Enumerable.Range(0, stages)
            .Select(s => new StageDemand(s, 60 * GB + random.Next(0, 1_000_000_000), s == 0 || s == stages - 1 ? 1.3 : 1.0 + random.NextDouble() * 0.01))
            .ToArray();
        return new SchedulerFleet(candidates, demands);
    }

    /// <summary>The candidates left after <paramref name="failures"/> nodes that host stages of <paramref name="placement"/> fail.</summary>
    public PlacementCandidate[] WithoutFailedNodes(IReadOnlyList<string> placement, int failures, int seed = 7)
    {
        var random = new Random(seed);
        var failed = placement.Distinct().OrderBy(_ => random.Next()).Take(failures).ToHashSet(StringComparer.Ordinal);
        if (failed.Count < failures)
            throw new ArgumentException($"Only {failed.Count} nodes host stages; cannot fail {failures} of them.");
        return Nodes.Where(n => !failed.Contains(n.NodeId)).ToArray();
    }
}
