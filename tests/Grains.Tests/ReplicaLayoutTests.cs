using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

public sealed class ReplicaLayoutTests
{
    private static readonly StageDemand[] TwoStages = [new(0, 100, 2.0), new(1, 200, 1.0)];

    [Fact]
    public void Replicas_become_one_flat_problem_rank_by_rank_and_split_back()
    {
        var layout = ReplicaLayout.For(TwoStages, 3, [], _ => true);
        Assert.Equal([0, 1, 2], layout.Ids);
        Assert.Equal([0, 1, 2, 3, 4, 5], layout.Demands.Select(d => d.Stage));
        Assert.Equal([100L, 200, 100, 200, 100, 200], layout.Demands.Select(d => d.MemoryBytes));
        Assert.All(layout.Preferred, p => Assert.Equal("", p));
        var split = layout.Split(["a", "b", "c", "d", "e", "f"]);
        Assert.Equal(["c", "d"], split[1].Nodes);
        Assert.Equal(["r0/s0", "r0/s1", "r1/s0", "r1/s1", "r2/s0", "r2/s1"], layout.Labels(replicated: true));
    }

    [Fact]
    public void Shrinking_keeps_the_replicas_whose_nodes_survived_with_their_ids_and_nodes()
    {
        ReplicaNodes[] current = [new(0, ["a", "b"]), new(1, ["c", "dead"]), new(2, ["e", "f"])];
        var layout = ReplicaLayout.For(TwoStages, 2, current, n => n != "dead");
        Assert.Equal([0, 2], layout.Ids); // replica 1 lost a node: it is the one dropped
        Assert.Equal(["a", "b", "e", "f"], layout.Preferred);
    }

    [Fact]
    public void Growing_keeps_every_current_replica_and_takes_the_lowest_free_ids()
    {
        ReplicaNodes[] current = [new(1, ["c", "d"])];
        var layout = ReplicaLayout.For(TwoStages, 3, current, _ => true);
        Assert.Equal([0, 1, 2], layout.Ids);
        Assert.Equal(["", "", "c", "d", "", ""], layout.Preferred);
    }

    [Fact]
    public void A_replica_with_a_drained_stage_keeps_its_other_node_when_the_count_stays()
    {
        ReplicaNodes[] current = [new(0, ["a", ""]), new(1, ["c", "d"])];
        var layout = ReplicaLayout.For(TwoStages, 2, current, n => n.Length > 0);
        Assert.Equal(["a", "", "c", "d"], layout.Preferred);
        Assert.Equal([1], ReplicaLayout.For(TwoStages, 1, current, n => n.Length > 0).Ids); // shrinking drops it instead
    }
}
