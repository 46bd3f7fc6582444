using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// The indexed <see cref="PlacementPolicy"/> against the plain O(stages × nodes) rules of
/// <see cref="ReferencePlacementPolicy"/>, on random fleets: packed and roomy, uneven memory, busy and cordoned
/// nodes, preferred lists with lost and unknown nodes, speeds with ties.
/// </summary>
public sealed class PlacementPolicyEquivalenceTests
{
    private const long GiB = 1L << 30;

    [Theory]
    [InlineData(1, 600)]
    [InlineData(2, 600)]
    [InlineData(3, 600)]
    public void Decisions_equal_the_plain_rules_on_random_fleets(int seed, int fleets)
    {
        var random = new Random(seed);
        int placed = 0, packed = 0, refused = 0;
        for (int f = 0; f < fleets; f++)
        {
            var (stages, nodes, preferred) = RandomCase(random);
            var expected = ReferencePlacementPolicy.Place(stages, nodes, preferred);
            var actual = PlacementPolicy.Place(stages, nodes, preferred);
            string context = $"seed {seed}, fleet {f}: {nodes.Length} nodes, {stages.Length} stages, {preferred.Length} preferred";
            Assert.True(expected.Placed == actual.Placed, $"{context}: expected placed={expected.Placed} ({expected.Reason}), got {actual.Placed} ({actual.Reason})");
            Assert.True(expected.NodeByStage.SequenceEqual(actual.NodeByStage),
                $"{context}: expected [{string.Join(", ", expected.NodeByStage)}], got [{string.Join(", ", actual.NodeByStage)}]");
            if (!actual.Placed) refused++;
            else if (actual.NodeByStage.Distinct().Count() < stages.Length) packed++;
            else placed++;
        }
        // The generator must exercise every path, or the comparison proves little.
        Assert.True(placed > fleets / 10 && packed > fleets / 10 && refused > fleets / 100, $"placed {placed}, packed {packed}, refused {refused}");
    }

    [Fact]
    public void Re_placement_after_failures_on_a_large_fleet_equals_the_plain_rules()
    {
        var random = new Random(11);
        var nodes = Enumerable.Range(0, 2048).Select(i => new PlacementCandidate(
            $"host-{i / 8:D4}/gpu{i % 8}", $"host-{i / 8:D4}", Math.Round(900 + random.NextDouble() * 100, 2), 80 * GiB, 0)).ToArray();
        var stages = Enumerable.Range(0, 256).Select(s => new StageDemand(s, 60 * GiB, 1 + random.Next(4))).ToArray();
        var first = PlacementPolicy.Place(stages, nodes);
        Assert.Equal(ReferencePlacementPolicy.Place(stages, nodes, []).NodeByStage, first.NodeByStage);

        var failed = first.NodeByStage.OrderBy(_ => random.Next()).Take(16).ToHashSet();
        var survivors = nodes.Where(n => !failed.Contains(n.NodeId)).Reverse().ToArray();
        var again = PlacementPolicy.Place(stages, survivors, first.NodeByStage);
        Assert.Equal(ReferencePlacementPolicy.Place(stages, survivors, first.NodeByStage).NodeByStage, again.NodeByStage);
        Assert.Equal(16, again.NodeByStage.Where((node, s) => node != first.NodeByStage[s]).Count());
    }

    [Fact]
    public void A_cordoned_node_keeps_its_preferred_stage_but_takes_no_new_one()
    {
        PlacementCandidate[] nodes =
        [
            new("a/gpu0", "a", 100, 10 * GiB, 0, AcceptsNewStages: false),
            new("b/gpu0", "b", 1, 10 * GiB, 0),
        ];
        StageDemand[] stages = [new(0, GiB, 1), new(1, GiB, 1)];
        Assert.Equal(["a/gpu0", "b/gpu0"], PlacementPolicy.Place(stages, nodes, ["a/gpu0"]).NodeByStage);
        Assert.Equal(["b/gpu0", "b/gpu0"], PlacementPolicy.Place(stages, nodes).NodeByStage);

        var refusal = PlacementPolicy.Place(stages, [nodes[0]]);
        Assert.False(refusal.Placed);
        Assert.Contains("cordoned", refusal.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    public void A_stage_cost_that_is_not_a_finite_non_negative_number_is_refused(double cost)
    {
        var decision = PlacementPolicy.Place([new StageDemand(0, GiB, cost)], [new PlacementCandidate("a/gpu0", "a", 1, 10 * GiB, 0)]);
        Assert.False(decision.Placed);
        Assert.Contains("finite number ≥ 0", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_listed_twice_is_refused()
    {
        var node = new PlacementCandidate("a/gpu0", "a", 1, 10 * GiB, 0);
        var decision = PlacementPolicy.Place([new StageDemand(0, GiB, 1)], [node, node]);
        Assert.False(decision.Placed);
        Assert.Contains("listed twice", decision.Reason, StringComparison.Ordinal);
    }

    private static (StageDemand[] Stages, PlacementCandidate[] Nodes, string[] Preferred) RandomCase(Random random)
    {
        int silos = random.Next(1, 10);
        double[] speeds = [5, 10, 10, 12.5, 20, 40.01];
        var nodes = new List<PlacementCandidate>();
        for (int s = 0; s < silos; s++)
        {
            int slots = random.Next(1, 6);
            for (int d = 0; d < slots; d++)
                nodes.Add(new PlacementCandidate(
                    $"s{random.Next(100)}-{s}/gpu{d}", $"s{s}",
                    speeds[random.Next(speeds.Length)],
                    random.Next(1, 9) * GiB,
                    random.Next(4) == 0 ? random.Next(1, 3) : 0,
                    AcceptsNewStages: random.Next(8) != 0));
        }
        int stageCount = random.Next(1, 2 * nodes.Count + 2);
        double[] costs = [0, 1, 1, 2, 3, 3.5, 8];
        var stages = Enumerable.Range(0, stageCount)
            .Select(s => new StageDemand(s, random.Next(1, 5) * GiB / 2, costs[random.Next(costs.Length)]))
            .OrderBy(_ => random.Next())
            .ToArray();
        string[] preferred = random.Next(3) == 0 ? [] : Enumerable.Range(0, random.Next(stageCount + 1))
            .Select(_ => random.Next(5) == 0 ? "lost/gpu0" : nodes[random.Next(nodes.Count)].NodeId)
            .ToArray();
        return (stages, [.. nodes.OrderBy(_ => random.Next())], preferred);
    }
}
