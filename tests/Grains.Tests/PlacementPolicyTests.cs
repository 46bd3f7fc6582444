using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>Pure unit tests of <see cref="PlacementPolicy"/>: no cluster, just stages, candidate nodes and the decision.</summary>
public sealed class PlacementPolicyTests
{
    private const long MiB = 1L << 20;

    private static PlacementCandidate Node(string silo, int device, double gigaflops = 10, long freeMiB = 1024, int hosted = 0) =>
        new($"{silo}/cpu{device}", silo, gigaflops, freeMiB * MiB, hosted);

    private static StageDemand Stage(int index, double cost = 1, long memoryMiB = 100) => new(index, memoryMiB * MiB, cost);

    private static StageDemand[] EqualStages(int count, long memoryMiB = 100) =>
        [.. Enumerable.Range(0, count).Select(s => Stage(s, 1, memoryMiB))];

    private static IReadOnlyList<string> Placed(IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> nodes)
    {
        var decision = PlacementPolicy.Place(stages, nodes);
        Assert.True(decision.Placed, $"expected a placement, got a refusal: {decision.Reason}");
        Assert.Null(decision.Reason);
        Assert.Equal(stages.Count, decision.NodeByStage.Count);
        Assert.All(decision.NodeByStage, node => Assert.Contains(nodes, n => n.NodeId == node));
        return decision.NodeByStage;
    }

    private static string SiloOf(IReadOnlyList<PlacementCandidate> nodes, string nodeId) => nodes.Single(n => n.NodeId == nodeId).SiloName;

    [Fact]
    public void With_enough_nodes_every_stage_gets_its_own_node()
    {
        PlacementCandidate[] nodes = [Node("a", 0), Node("a", 1), Node("a", 2), Node("b", 0), Node("b", 1), Node("b", 2)];
        StageDemand[] four = [Stage(0, 3), Stage(1, 1), Stage(2, 2), Stage(3, 1)];
        Assert.Equal(4, Placed(four, nodes).Distinct().Count());
        Assert.Equal(6, Placed(EqualStages(6), nodes).Distinct().Count());
    }

    [Fact]
    public void Stages_spread_over_silos_before_a_silo_gets_a_second_stage()
    {
        // Silo a's nodes are the fastest: "fastest node first" alone would put two stages on machine a.
        PlacementCandidate[] nodes = [Node("a", 0, 40), Node("a", 1, 40), Node("b", 0, 10), Node("b", 1, 10), Node("c", 0, 10), Node("c", 1, 10)];
        var three = Placed(EqualStages(3), nodes);
        Assert.Equal(["a", "b", "c"], three.Select(n => SiloOf(nodes, n)).Order());

        var six = Placed(EqualStages(6), nodes);
        Assert.Equal(6, six.Distinct().Count());
        Assert.All(six.GroupBy(n => SiloOf(nodes, n)), silo => Assert.Equal(2, silo.Count()));
    }

    [Fact]
    public void Stages_already_hosted_on_a_silo_count_towards_its_load()
    {
        // a/cpu1 is empty and by far the fastest, but its machine already runs a stage; b is idle.
        PlacementCandidate[] nodes = [Node("a", 0, 100, hosted: 1), Node("a", 1, 100), Node("b", 0, 1)];
        Assert.Equal(["b/cpu0"], Placed([Stage(0)], nodes));
    }

    [Fact]
    public void The_most_expensive_stage_goes_to_the_fastest_node_among_equally_loaded_silos()
    {
        PlacementCandidate[] nodes = [Node("a", 0, 10), Node("b", 0, 40), Node("c", 0, 20)];
        StageDemand[] stages = [Stage(0, 1), Stage(1, 5), Stage(2, 2)];
        // Cost order 1, 2, 0 meets speed order b, c, a.
        Assert.Equal(["a/cpu0", "b/cpu0", "c/cpu0"], Placed(stages, nodes));
    }

    [Theory]
    [InlineData(20, 3, 2)] // twice as fast, 3 equal stages: finishing times 2/20 < 2/10, so the fast node takes 2
    [InlineData(10, 4, 2)] // equal speeds: 2 and 2
    [InlineData(30, 4, 3)] // three times as fast: 3/30 < 2/10, so 3 and 1 (not round-robin)
    public void With_fewer_nodes_than_stages_stages_share_nodes_balanced_by_finishing_time(double fastGigaflops, int stageCount, int expectedOnFast)
    {
        PlacementCandidate[] nodes = [Node("a", 0, fastGigaflops), Node("b", 0, 10)];
        var placed = Placed(EqualStages(stageCount), nodes);
        Assert.Equal(expectedOnFast, placed.Count(n => n == "a/cpu0"));
        Assert.Equal(stageCount - expectedOnFast, placed.Count(n => n == "b/cpu0"));
    }

    [Fact]
    public void A_stage_never_lands_on_a_node_it_does_not_fit_however_fast()
    {
        PlacementCandidate[] nodes = [Node("a", 0, 1000, freeMiB: 99), Node("b", 0, 1, freeMiB: 1024)];
        Assert.Equal(["b/cpu0", "b/cpu0"], Placed(EqualStages(2, memoryMiB: 100), nodes));

        // Exactly enough memory is enough.
        PlacementCandidate[] exact = [Node("a", 0, 1000, freeMiB: 100), Node("b", 0, 1, freeMiB: 1024)];
        Assert.Equal(["a/cpu0"], Placed([Stage(0, 1, memoryMiB: 100)], exact));
    }

    [Fact]
    public void Earlier_stages_use_up_a_nodes_free_memory()
    {
        // Stage 2 would finish far sooner on the fast node, but after stage 0 only 100 MiB of its 300 MiB are free.
        PlacementCandidate[] nodes = [Node("a", 0, 100, freeMiB: 300), Node("b", 0, 1, freeMiB: 1000)];
        Assert.Equal(["a/cpu0", "b/cpu0", "b/cpu0"], Placed(EqualStages(3, memoryMiB: 200), nodes));

        // With room for two, the fast node does take the third stage.
        PlacementCandidate[] roomy = [Node("a", 0, 100, freeMiB: 400), Node("b", 0, 1, freeMiB: 1000)];
        Assert.Equal(["a/cpu0", "b/cpu0", "a/cpu0"], Placed(EqualStages(3, memoryMiB: 200), roomy));
    }

    [Fact]
    public void When_nothing_fits_the_refusal_names_the_stage_its_need_and_the_roomiest_node()
    {
        PlacementCandidate[] nodes = [Node("a", 0, freeMiB: 100), Node("b", 0, freeMiB: 300), Node("c", 0, freeMiB: 200)];
        var decision = PlacementPolicy.Place([Stage(0, 1, memoryMiB: 50), Stage(1, 2, memoryMiB: 1024)], nodes);
        Assert.False(decision.Placed);
        Assert.Empty(decision.NodeByStage);
        Assert.NotNull(decision.Reason);
        Assert.Contains("cannot fit", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(PlacementRefusal.CannotFit, decision.Refusal);
        Assert.Contains("stage 1 needs 1.0 GiB", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("300.0 MiB on b/cpu0", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refusal_after_earlier_stages_took_the_memory_reports_what_is_left()
    {
        var decision = PlacementPolicy.Place(EqualStages(2, memoryMiB: 200), [Node("a", 0, freeMiB: 300)]);
        Assert.False(decision.Placed);
        Assert.Contains("cannot fit", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("stage 1 needs 200.0 MiB", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("100.0 MiB on a/cpu0", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void With_no_nodes_the_refusal_says_there_are_none()
    {
        var decision = PlacementPolicy.Place(EqualStages(2), []);
        Assert.False(decision.Placed);
        Assert.Empty(decision.NodeByStage);
        Assert.Contains("No ready nodes", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Placement_is_deterministic_and_ignores_the_order_nodes_are_listed_in()
    {
        // Many ties (equal speeds, equal silo loads, equal costs): only a fixed tie-break makes the answer stable.
        PlacementCandidate[] nodes =
        [
            Node("a", 0, 10), Node("a", 1, 10), Node("b", 0, 10), Node("b", 1, 20, hosted: 1),
            Node("c", 0, 10), Node("c", 1, 10), Node("d", 0, 5, freeMiB: 150),
        ];
        StageDemand[] stages = [Stage(0, 2), Stage(1, 1), Stage(2, 1), Stage(3, 2), Stage(4, 1, memoryMiB: 300), Stage(5, 1), Stage(6, 2), Stage(7, 1)];
        var expected = Placed(stages, nodes);
        Assert.Equal(expected, Placed(stages, nodes));
        Assert.Equal(expected, Placed(stages, [.. nodes.Reverse()]));
        var random = new Random(7);
        for (int i = 0; i < 10; i++)
            Assert.Equal(expected, Placed(stages, [.. nodes.OrderBy(_ => random.Next())]));
        // The stages' order does not matter either.
        Assert.Equal(expected, Placed([.. stages.Reverse()], nodes));
    }

    [Fact]
    public void Nodes_already_hosting_stages_are_used_only_after_every_empty_node()
    {
        PlacementCandidate[] nodes = [Node("a", 0, 100, hosted: 1), Node("b", 0, 1), Node("c", 0, 1)];
        Assert.Equal(["b/cpu0", "c/cpu0"], Placed(EqualStages(2), nodes));
        // Once the empty nodes are taken, finishing time decides, and the busy fast node wins.
        Assert.Equal(["b/cpu0", "c/cpu0", "a/cpu0"], Placed(EqualStages(3), nodes));

        // Also within one silo: the empty slow slot before the busy fast one.
        PlacementCandidate[] oneSilo = [Node("a", 0, 100, hosted: 2), Node("a", 1, 1)];
        Assert.Equal(["a/cpu1"], Placed([Stage(0)], oneSilo));
    }

    [Fact]
    public void A_cordoned_node_keeps_its_preferred_stage_but_takes_no_new_one()
    {
        PlacementCandidate[] nodes = [Node("a", 0, 100) with { AcceptsNewStages = false }, Node("b", 0), Node("c", 0)];
        var kept = PlacementPolicy.Place(EqualStages(2), nodes, ["a/cpu0", ""]);
        Assert.Equal("a/cpu0", kept.NodeByStage[0]);
        Assert.NotEqual("a/cpu0", kept.NodeByStage[1]);
        Assert.DoesNotContain("a/cpu0", Placed(EqualStages(3), nodes));

        var none = PlacementPolicy.Place(EqualStages(1), [Node("a", 0) with { AcceptsNewStages = false }]);
        Assert.False(none.Placed);
        Assert.Contains("cordoned", none.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot fit", none.Reason, StringComparison.Ordinal); // capacity, not a model too large
    }

    [Fact]
    public void Bottleneck_time_is_the_busiest_nodes_cost_over_its_speed()
    {
        PlacementCandidate[] nodes = [Node("a", 0, 10), Node("b", 0, 20)];
        StageDemand[] stages = [Stage(0, 4), Stage(1, 2), Stage(2, 2)];
        Assert.Equal(0.6, PlacementPolicy.BottleneckSeconds(stages, ["a/cpu0", "a/cpu0", "b/cpu0"], nodes), 12); // a: 6/10
        Assert.Equal(0.4, PlacementPolicy.BottleneckSeconds(stages, ["a/cpu0", "b/cpu0", "b/cpu0"], nodes), 12); // a: 4/10
        Assert.Equal(double.PositiveInfinity, PlacementPolicy.BottleneckSeconds(stages, ["a/cpu0", "gone/cpu0", "b/cpu0"], nodes));
    }
}
