using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// The placement rules written the plain way — every stage looks at every node, O(stages × nodes) — kept as the
/// specification <see cref="PlacementPolicy"/>'s indexed implementation must match decision for decision. This is
/// the policy as it was before it was optimised, plus cordoned nodes (used only through the preferred list).
/// </summary>
internal static class ReferencePlacementPolicy
{
    public static PlacementDecision Place(IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> nodes, IReadOnlyList<string> preferred)
    {
        if (stages.Count == 0)
            return PlacementDecision.Refused(PlacementRefusal.InvalidRequest, "The job has no stages to place.");
        if (nodes.Count == 0)
            return PlacementDecision.Refused(PlacementRefusal.WaitingForCapacity, "No ready nodes: start a silo (each exposes its device slots as nodes) or wait for nodes to register.");

        var ordered = nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal).ToArray();
        var cost = new double[ordered.Length];
        var count = ordered.Select(n => n.StagesAlreadyHosted).ToArray();
        var freeMemory = ordered.Select(n => n.FreeMemoryBytes).ToArray();
        var siloLoad = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in ordered) siloLoad[n.SiloName] = siloLoad.GetValueOrDefault(n.SiloName) + n.StagesAlreadyHosted;

        var result = new string[stages.Count];
        var index = ordered.Select((n, i) => (n.NodeId, i)).ToDictionary(x => x.NodeId, x => x.i, StringComparer.Ordinal);
        foreach (var stage in stages.OrderBy(s => s.Stage))
        {
            if (stage.Stage < preferred.Count && index.TryGetValue(preferred[stage.Stage], out int keep) && freeMemory[keep] >= stage.MemoryBytes)
                Assign(stage, keep);
        }
        foreach (var stage in stages.OrderByDescending(s => s.Cost).ThenBy(s => s.Stage))
        {
            if (result[stage.Stage] is not null) continue;
            int best = -1;
            (int Empty, int SiloLoad, double Finish) bestKey = default;
            for (int i = 0; i < ordered.Length; i++)
            {
                if (!ordered[i].AcceptsNewStages || freeMemory[i] < stage.MemoryBytes) continue;
                double finish = (cost[i] + stage.Cost) / Math.Max(ordered[i].Gigaflops, 1e-9);
                var key = count[i] == 0 ? (0, siloLoad[ordered[i].SiloName], finish) : (1, 0, finish);
                if (best < 0 || key.CompareTo(bestKey) < 0)
                {
                    best = i;
                    bestKey = key;
                }
            }
            if (best < 0)
                return PlacementDecision.Refused(PlacementRefusal.CannotFit, $"stage {stage.Stage} fits nowhere");
            Assign(stage, best);
        }
        return new PlacementDecision(true, result, null);

        void Assign(StageDemand stage, int node)
        {
            result[stage.Stage] = ordered[node].NodeId;
            cost[node] += stage.Cost;
            count[node]++;
            freeMemory[node] -= stage.MemoryBytes;
            siloLoad[ordered[node].SiloName]++;
        }
    }
}
