using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// Puts stages on nodes. Most expensive stage first; each goes to an empty node when one fits (one stage per node
/// while nodes last), else to the node that would finish its work soonest (cost ÷ measured GFLOP/s), so with fewer
/// nodes than stages several stages share a node. Among empty nodes, the silo (machine) hosting the fewest stages
/// wins first — slots of one machine share its memory bandwidth (and, for CPU slots, its cores), and a machine loss
/// then takes fewer stages with it — then the fastest node, then the lowest node id. Memory is a hard limit: a stage
/// that fits nowhere is a refusal that names the stage, what it needs and the most any node has free. A node that
/// does not accept new stages (cordoned) keeps only the stages it is preferred for. Pure and deterministic.
/// </summary>
/// <remarks>
/// Fleet-sized: empty nodes are found through <see cref="EmptyNodeIndex"/> (O(log silos) per stage), so a decision
/// for 2,048 stages on 16,384 nodes takes milliseconds; only packing (no empty node fits) scans the occupied nodes.
/// The decisions equal those of the plain O(stages × nodes) rules (kept in the tests as the specification), with one
/// caveat: among empty nodes "fastest" compares speeds, where the plain rules compare finishing times cost ÷ speed,
/// which can round equal for speeds within a couple of ulps of each other (measured speeds are rounded to 0.01).
/// </remarks>
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
    /// only the stages of lost nodes move. All stages go on nodes of one device kind unless
    /// <paramref name="mixedDevices"/> (see <see cref="DeviceKinds"/>).
    /// </summary>
    public static PlacementDecision Place(IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> nodes, IReadOnlyList<string> preferred,
        bool mixedDevices = false)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(preferred);
        if (DeviceKinds.Choices(nodes, preferred, mixedDevices) is { Count: > 1 } kinds)
            return DeviceKinds.PlaceOnOneKind(kinds, oneKind => Place(stages, oneKind, preferred));
        if (stages.Count == 0)
            return PlacementDecision.Refused(PlacementRefusal.InvalidRequest, "The job has no stages to place.");
        if (nodes.Count == 0)
            return PlacementDecision.Refused(PlacementRefusal.WaitingForCapacity, "No ready nodes: start a silo (each exposes its device slots as nodes) or wait for nodes to register.");
        if (StageProblem(stages) is { } stageProblem)
            return PlacementDecision.Refused(PlacementRefusal.InvalidRequest, stageProblem);
        var (fleet, fleetProblem) = PlacementFleet.Create(nodes);
        if (fleet is null)
            return PlacementDecision.Refused(PlacementRefusal.InvalidRequest, fleetProblem!);

        var byIndex = new StageDemand[stages.Count];
        foreach (var stage in stages) byIndex[stage.Stage] = stage;
        var result = new string[stages.Count];
        for (int s = 0; s < byIndex.Length && s < preferred.Count; s++)
        {
            int keep = fleet.IndexOf(preferred[s]);
            if (keep >= 0 && fleet.Free[keep] >= byIndex[s].MemoryBytes)
                Assign(byIndex[s], keep, null);
        }

        var empty = new EmptyNodeIndex(fleet);
        var occupied = new List<int>();
        for (int i = 0; i < fleet.Count; i++)
            if (fleet.Hosted[i] > 0 && fleet.IsAccepting(i)) occupied.Add(i);
        var order = (StageDemand[])byIndex.Clone();
        Array.Sort(order, static (a, b) => a.Cost != b.Cost ? b.Cost.CompareTo(a.Cost) : a.Stage.CompareTo(b.Stage)); // most expensive first
        foreach (var stage in order)
        {
            if (result[stage.Stage] is not null) continue;
            // A free stage finishes at time 0 everywhere, so speed cannot order the nodes: the plain scan decides.
            int best = stage.Cost == 0 ? ScanAll(fleet, stage) : empty.Best(stage.MemoryBytes);
            if (best < 0) best = LeastFinish(fleet, occupied, stage);
            if (best < 0) return NothingFits(fleet, stage);
            Assign(stage, best, empty);
            if (fleet.Hosted[best] == 1 && fleet.IsAccepting(best)) occupied.Add(best);
        }
        return new PlacementDecision(true, result, null);

        void Assign(StageDemand stage, int node, EmptyNodeIndex? index)
        {
            int silo = fleet.Silo[node];
            index?.BeginChange(silo);
            result[stage.Stage] = fleet.Nodes[node].NodeId;
            fleet.Cost[node] += stage.Cost;
            fleet.Hosted[node]++;
            fleet.Free[node] -= stage.MemoryBytes;
            fleet.SiloLoad[silo]++;
            index?.EndChange(silo, node);
        }
    }

    private static string? StageProblem(IReadOnlyList<StageDemand> stages)
    {
        var seen = new bool[stages.Count];
        foreach (var stage in stages)
        {
            if (stage is null) return "A stage demand is null.";
            if (stage.Stage < 0 || stage.Stage >= stages.Count)
                return $"Stage index {stage.Stage} is outside 0…{stages.Count - 1}.";
            if (seen[stage.Stage])
                return "Stage indices repeat: each stage must be listed once.";
            seen[stage.Stage] = true;
        }
        foreach (var stage in stages)
            if (!double.IsFinite(stage.Cost) || stage.Cost < 0)
                return $"Stage {stage.Stage} has cost {stage.Cost}: a stage's cost must be a finite number ≥ 0.";
        return null;
    }

    /// <summary>Among occupied nodes that fit: the soonest finishing time, then the lowest node id.</summary>
    private static int LeastFinish(PlacementFleet fleet, List<int> occupied, StageDemand stage)
    {
        int best = -1;
        double bestFinish = 0;
        foreach (int i in occupied)
        {
            if (fleet.Free[i] < stage.MemoryBytes) continue;
            double finish = (fleet.Cost[i] + stage.Cost) / fleet.Speed[i];
            if (best < 0 || finish < bestFinish || (finish == bestFinish && i < best))
            {
                best = i;
                bestFinish = finish;
            }
        }
        return best;
    }

    /// <summary>The rules written plainly, every node looked at: for a stage of cost 0, where finishing times tie.</summary>
    private static int ScanAll(PlacementFleet fleet, StageDemand stage)
    {
        int best = -1;
        (int Empty, int SiloLoad, double Finish) bestKey = default;
        for (int i = 0; i < fleet.Count; i++)
        {
            if (!fleet.IsAccepting(i) || fleet.Free[i] < stage.MemoryBytes) continue;
            double finish = (fleet.Cost[i] + stage.Cost) / fleet.Speed[i];
            var key = fleet.Hosted[i] == 0 ? (0, fleet.SiloLoad[fleet.Silo[i]], finish) : (1, 0, finish);
            if (best < 0 || key.CompareTo(bestKey) < 0)
            {
                best = i;
                bestKey = key;
            }
        }
        return best;
    }

    /// <summary>
    /// The refusal when a stage fits no candidate: <see cref="PlacementRefusal.WaitingForCapacity"/> when every candidate
    /// is cordoned, else <see cref="PlacementRefusal.CannotFit"/> (for these candidates: the scheduler checks whether
    /// nodes other jobs hold would fit it before telling the job it never will).
    /// </summary>
    private static PlacementDecision NothingFits(PlacementFleet fleet, StageDemand stage)
    {
        int roomiest = -1;
        for (int i = 0; i < fleet.Count; i++)
            if (fleet.IsAccepting(i) && (roomiest < 0 || fleet.Free[i] > fleet.Free[roomiest])) roomiest = i;
        if (roomiest < 0)
            return PlacementDecision.Refused(PlacementRefusal.WaitingForCapacity, $"Stage {stage.Stage} has no node to go to: every candidate node is cordoned (takes no new stages). Uncordon a node or add nodes.");
        return PlacementDecision.Refused(PlacementRefusal.CannotFit, $"The model cannot fit: stage {stage.Stage} needs {Bytes(stage.MemoryBytes)} (parameters, gradients, AdamW moments and activations) " +
               $"but the most any node has free is {Bytes(fleet.Free[roomiest])} on {fleet.Nodes[roomiest].NodeId}. " +
               "Use more pipeline stages, a smaller model or micro-batch, or nodes with more memory.");
    }

    private static string Bytes(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : $"{bytes / (double)(1L << 20):F1} MiB";
}
