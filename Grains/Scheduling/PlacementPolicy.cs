using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// Puts stages on nodes. Most expensive stage first; each goes to an empty node when one fits (one stage per node
/// while nodes last), else to the node that would finish its work soonest (cost ÷ measured GFLOP/s), so with fewer
/// nodes than stages several stages share a node. Among empty nodes, the silo (machine) hosting the fewest stages
/// wins first — slots of one machine share its memory bandwidth (and, for CPU slots, its cores), and a machine loss
/// then takes fewer stages with it — then the fastest node. Memory is a hard limit: a stage that fits nowhere is a
/// refusal that names the stage, what it needs and the most any node has free. Pure and deterministic.
/// </summary>
public static class PlacementPolicy
{
    public static PlacementDecision Place(IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> nodes) =>
        Place(stages, nodes, []);

    /// <summary>
    /// Expected step time of a placement in the policy's cost model: the busiest node's summed stage cost ÷ its
    /// GFLOP/s (a pipeline steps at the pace of its slowest node). Nodes missing from <paramref name="nodes"/> count
    /// as infinitely slow.
    /// </summary>
    public static double BottleneckSeconds(IReadOnlyList<StageDemand> stages, IReadOnlyList<string> nodeByStage, IReadOnlyList<PlacementCandidate> nodes)
    {
        var speed = nodes.ToDictionary(n => n.NodeId, n => n.Gigaflops, StringComparer.Ordinal);
        var load = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var stage in stages)
        {
            if (stage.Stage >= nodeByStage.Count) return double.PositiveInfinity;
            string node = nodeByStage[stage.Stage];
            load[node] = load.GetValueOrDefault(node) + stage.Cost;
        }
        return load.Max(l => speed.TryGetValue(l.Key, out double g) && g > 0 ? l.Value / g : double.PositiveInfinity);
    }

    /// <summary>
    /// As <see cref="Place(IReadOnlyList{StageDemand}, IReadOnlyList{PlacementCandidate})"/>, but a stage whose
    /// <paramref name="preferred"/> node (by stage index) is still a candidate with room stays there: after a failure
    /// only the stages of lost nodes move.
    /// </summary>
    public static PlacementDecision Place(IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> nodes, IReadOnlyList<string> preferred)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(nodes);
        if (stages.Count == 0)
            return PlacementDecision.Refused("The job has no stages to place.");
        if (nodes.Count == 0)
            return PlacementDecision.Refused("No ready nodes: start a silo (each exposes its device slots as nodes) or wait for nodes to register.");

        var ordered = nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal).ToArray();
        var cost = new double[ordered.Length];
        var count = ordered.Select(n => n.StagesAlreadyHosted).ToArray();
        var freeMemory = ordered.Select(n => n.FreeMemoryBytes).ToArray();
        var siloLoad = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in ordered) siloLoad[n.SiloName] = siloLoad.GetValueOrDefault(n.SiloName) + n.StagesAlreadyHosted;

        var result = new string[stages.Count];
        foreach (var stage in stages)
            if (stage.Stage < 0 || stage.Stage >= stages.Count)
                return PlacementDecision.Refused($"Stage index {stage.Stage} is outside 0…{stages.Count - 1}.");
        if (stages.Select(s => s.Stage).Distinct().Count() != stages.Count)
            return PlacementDecision.Refused("Stage indices repeat: each stage must be listed once.");
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
                // Spreading over silos matters only while empty nodes remain; after that, finishing time decides.
                var key = count[i] == 0 ? (0, siloLoad[ordered[i].SiloName], finish) : (1, 0, finish);
                if (best < 0 || key.CompareTo(bestKey) < 0)
                {
                    best = i;
                    bestKey = key;
                }
            }
            if (best < 0 && !ordered.Any(n => n.AcceptsNewStages))
                return PlacementDecision.Refused("No node takes new stages: every ready node is cordoned or draining. Uncordon a node or start another silo.");
            if (best < 0)
            {
                int roomiest = Array.IndexOf(freeMemory, freeMemory.Max());
                return PlacementDecision.Refused(
                    $"The model cannot fit: stage {stage.Stage} needs {Bytes(stage.MemoryBytes)} (parameters, gradients, AdamW moments and activations) " +
                    $"but the most any node has free is {Bytes(freeMemory[roomiest])} on {ordered[roomiest].NodeId}. " +
                    "Use more pipeline stages, a smaller model or micro-batch, or nodes with more memory.");
            }
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

    private static string Bytes(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : $"{bytes / (double)(1L << 20):F1} MiB";
}
