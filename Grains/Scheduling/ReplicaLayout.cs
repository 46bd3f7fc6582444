using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// Lays R replicas of a P-stage pipeline out as one flat placement problem (replica rank r, stage s → index r·P + s)
/// and back. Which replicas a smaller or larger count keeps is decided here: the ones with the most nodes still usable
/// (then the lowest id), so a failure drops the replica that lost a node and every survivor keeps its id, its nodes
/// and its stages' live state. New replicas take the lowest free ids. Pure.
/// </summary>
public sealed class ReplicaLayout
{
    private ReplicaLayout(int[] ids, IReadOnlyList<StageDemand> demands, string[] preferred, int stages)
    {
        Ids = ids;
        Demands = demands;
        Preferred = preferred;
        StagesPerReplica = stages;
    }

    /// <summary>Replica ids in rank order (ascending).</summary>
    public IReadOnlyList<int> Ids { get; }

    /// <summary>One demand per (rank, stage), stage index r·P + s.</summary>
    public IReadOnlyList<StageDemand> Demands { get; }

    /// <summary>The node each flat index should keep (the replica's current node), or "" for a new replica.</summary>
    public IReadOnlyList<string> Preferred { get; }

    public int StagesPerReplica { get; }

    public static ReplicaLayout For(IReadOnlyList<StageDemand> stages, int count, IReadOnlyList<ReplicaNodes> current, Func<string, bool> usable)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(usable);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int p = stages.Count;
        var kept = current
            .Where(r => r.Nodes.Count == p)
            .OrderByDescending(r => r.Nodes.Count(n => !string.IsNullOrEmpty(n) && usable(n)))
            .ThenBy(r => r.Replica)
            .Take(count)
            .ToDictionary(r => r.Replica);
        var ids = new SortedSet<int>(kept.Keys);
        for (int id = 0; ids.Count < count; id++) ids.Add(id);
        int[] order = [.. ids];
        var demands = new StageDemand[count * p];
        var preferred = new string[count * p];
        for (int rank = 0; rank < order.Length; rank++)
            foreach (var stage in stages)
            {
                int flat = rank * p + stage.Stage;
                demands[flat] = stage with { Stage = flat };
                preferred[flat] = kept.TryGetValue(order[rank], out var replica) ? replica.Nodes[stage.Stage] : "";
            }
        return new ReplicaLayout(order, demands, preferred, p);
    }

    /// <summary>The flat node list of a placement decision, split back into replicas.</summary>
    public IReadOnlyList<ReplicaNodes> Split(IReadOnlyList<string> nodeByFlatIndex) =>
        [.. Ids.Select((id, rank) => new ReplicaNodes(id, [.. nodeByFlatIndex.Skip(rank * StagesPerReplica).Take(StagesPerReplica)]))];

    /// <summary>Labels for the scheduler's node view: "r{id}/s{stage}", or "s{stage}" for a job that never runs more than one replica.</summary>
    public IReadOnlyList<string> Labels(bool replicated) =>
        [.. Ids.SelectMany(id => Enumerable.Range(0, StagesPerReplica).Select(s => replicated ? $"r{id}/s{s}" : $"s{s}"))];
}
