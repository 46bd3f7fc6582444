using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Jobs;

/// <summary>The stage grains of every data-parallel replica of a job in one epoch, by rank (replica ids ascending).</summary>
internal sealed class ReplicaStages
{
    public ReplicaStages(IReadOnlyList<int> ids, IPipelineStageGrain[][] byRank)
    {
        Ids = ids;
        ByRank = byRank;
    }

    public static ReplicaStages None { get; } = new([], []);

    public IReadOnlyList<int> Ids { get; }

    public IPipelineStageGrain[][] ByRank { get; }

    public int Count => Ids.Count;

    /// <summary>Every stage grain, rank by rank (the order of the job's placement entries).</summary>
    public IEnumerable<IPipelineStageGrain> All => ByRank.SelectMany(r => r);

    /// <summary>
    /// The stages whose state is snapshotted: rank 0's. After every update each replica of a stage holds the same state
    /// (its gradients all-reduced in the canonical order, the same optimizer step), so one replica's copy, kept by it and
    /// by its holders, is every replica's; the others copy nothing off their devices (see <c>PipelineStageGrain.Configure</c>).
    /// </summary>
    public IReadOnlyList<IPipelineStageGrain> Snapshotting => ByRank.Length > 0 ? ByRank[0] : [];

    public static ReplicaStages Of(IGrainFactory grains, string jobId, IReadOnlyList<int> ids, int stages) =>
        new(ids, [.. ids.Select(id => Enumerable.Range(0, stages).Select(s => grains.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, id, s))).ToArray())]);

    /// <summary>A job's placement entries grouped into replicas (ids ascending, nodes by stage).</summary>
    public static IReadOnlyList<ReplicaNodes> NodesOf(IEnumerable<StagePlacement> placement) =>
        [.. placement.GroupBy(p => p.Replica).OrderBy(g => g.Key).Select(g => new ReplicaNodes(g.Key, [.. g.OrderBy(p => p.Stage).Select(p => p.NodeId)]))];
}
