using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Jobs;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// One job, one device kind (issue 15 §3): CPU and CUDA compute the same step to different bits, so a job's stages and
/// replicas are all placed on one kind unless its spec says "mixed".
/// </summary>
public sealed class DeviceKindsTests
{
    private const long MiB = 1L << 20;

    private static PlacementCandidate Node(string id, string kind, double gigaflops = 10, long freeMiB = 1024) =>
        new(id, id.Split('/')[0], gigaflops, freeMiB * MiB, 0, DeviceKind: kind);

    private static StageDemand[] Stages(int count, long memoryMiB = 100) =>
        [.. Enumerable.Range(0, count).Select(s => new StageDemand(s, memoryMiB * MiB, 1))];

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("cuda:0", "cuda")]
    [InlineData(" CUDA:3 ", "cuda")]
    [InlineData("cuda", "cuda")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Kind_is_the_device_name_before_its_index(string? device, string kind) =>
        Assert.Equal(kind, DeviceKinds.KindOf(device));

    [Fact]
    public void Nodes_of_one_kind_or_a_mixed_job_are_one_choice()
    {
        PlacementCandidate[] cpus = [Node("a/cpu0", "cpu"), Node("b/cpu0", "cpu")];
        Assert.Single(DeviceKinds.Choices(cpus, [], mixedAllowed: false));
        PlacementCandidate[] both = [Node("a/cpu0", "cpu"), Node("b/cuda:0", "cuda")];
        Assert.Equal(2, Assert.Single(DeviceKinds.Choices(both, [], mixedAllowed: true)).Count);
    }

    [Fact]
    public void Kinds_are_tried_preferred_first_then_fastest_then_by_name()
    {
        PlacementCandidate[] nodes = [Node("a/cpu0", "cpu", 10), Node("b/cpu0", "cpu", 10), Node("c/cuda:0", "cuda", 500), Node("d/rocm:0", "rocm", 500)];

        var fresh = DeviceKinds.Choices(nodes, [], mixedAllowed: false);
        Assert.Equal(["cuda", "rocm", "cpu"], fresh.Select(c => c[0].DeviceKind));
        Assert.Equal(["a/cpu0", "b/cpu0"], fresh[2].Select(n => n.NodeId));

        // A running job stays on the kind it runs on, even when another kind is faster.
        var running = DeviceKinds.Choices(nodes, ["a/cpu0", "b/cpu0"], mixedAllowed: false);
        Assert.Equal("cpu", running[0][0].DeviceKind);
    }

    [Fact]
    public void A_job_is_placed_on_one_kind_where_the_policy_alone_would_spread_it_over_both()
    {
        // Two empty nodes, one of each kind: the plain policy puts one stage on each (empty nodes first).
        PlacementCandidate[] nodes = [Node("a/cpu0", "cpu", 10), Node("b/cuda:0", "cuda", 100)];

        var same = PlacementPolicy.Place(Stages(2), nodes, []);
        Assert.True(same.Placed, same.Reason);
        Assert.Equal(["b/cuda:0", "b/cuda:0"], same.NodeByStage);

        var mixed = PlacementPolicy.Place(Stages(2), nodes, [], mixedDevices: true);
        Assert.Equal(["a/cpu0", "b/cuda:0"], mixed.NodeByStage.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_job_that_fits_no_single_kind_is_refused_with_the_rule_named()
    {
        // Each node holds one 600 MiB stage: two stages fit only by mixing the kinds.
        PlacementCandidate[] nodes = [Node("a/cpu0", "cpu", freeMiB: 1000), Node("b/cuda:0", "cuda", freeMiB: 1000)];

        var refused = PlacementPolicy.Place(Stages(2, memoryMiB: 600), nodes, []);
        Assert.False(refused.Placed);
        Assert.Equal(PlacementRefusal.CannotFit, refused.Refusal);
        Assert.Contains("one device kind", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("devicePlacement 'mixed'", refused.Reason, StringComparison.Ordinal);

        Assert.True(PlacementPolicy.Place(Stages(2, memoryMiB: 600), nodes, [], mixedDevices: true).Placed);
    }

    [Fact]
    public void The_scheduler_keeps_a_job_and_its_replicas_on_one_kind_unless_the_request_allows_mixing()
    {
        var h = new SchedulerTableHarness();
        h.Join("a/cpu0");
        h.Join("b/cpu0");
        h.Join("c/cuda:0");
        h.Join("d/cuda:0");
        foreach (string id in new[] { "c/cuda:0", "d/cuda:0" })
            h.Table.Nodes[id] = h.Table.Nodes[id] with { Capabilities = h.Table.Nodes[id].Capabilities with { Device = "cuda:0" } };
        var stages = Stages(2, memoryMiB: 1);

        // Two replicas of two stages want four nodes of their own: there are four, but only two of each kind.
        var one = h.Place("x", new ReplicaRequest(stages, [2, 1], [])).Placement;
        Assert.True(one.Placed, one.Reason);
        var nodes = one.Replicas.SelectMany(r => r.Nodes).ToArray();
        Assert.Single(nodes.Select(n => h.Table.Nodes[n].Capabilities.Device).Distinct());
        h.Release("x");

        var mixed = h.Place("y", new ReplicaRequest(stages, [2, 1], []) { MixedDevices = true }).Placement;
        Assert.True(mixed.Placed, mixed.Reason);
        Assert.Equal(2, mixed.Replicas.Count);
        Assert.Equal(2, mixed.Replicas.SelectMany(r => r.Nodes).Select(n => h.Table.Nodes[n].Capabilities.Device).Distinct().Count());
    }

    [Fact]
    public void Device_placement_is_same_or_mixed()
    {
        Assert.DoesNotContain(JobSpecs.Validate(TinyJob.Spec("x")), p => p.StartsWith("devicePlacement", StringComparison.Ordinal));
        Assert.DoesNotContain(JobSpecs.Validate(TinyJob.Spec("x") with { DevicePlacement = "mixed" }), p => p.StartsWith("devicePlacement", StringComparison.Ordinal));
        Assert.Contains(JobSpecs.Validate(TinyJob.Spec("x") with { DevicePlacement = "any" }),
            p => p.StartsWith("devicePlacement: 'any'", StringComparison.Ordinal));
        Assert.False(JobSpecs.MixedDevices(TinyJob.Spec("x")));
        Assert.True(JobSpecs.MixedDevices(TinyJob.Spec("x") with { DevicePlacement = "mixed" }));
    }

    [Fact]
    public void Fits_keeps_to_one_kind_unless_mixing_is_allowed()
    {
        // Two stages of 600 MiB: each node (1 GiB) takes one, so the job fits only across both kinds.
        PlacementCandidate[] nodes = [Node("a/cpu0", "cpu"), Node("c/cuda:0", "cuda")];
        Assert.False(SchedulerTable.Fits(Stages(2, memoryMiB: 600), nodes, [], ownNodes: false));
        Assert.True(SchedulerTable.Fits(Stages(2, memoryMiB: 600), nodes, [], ownNodes: false, mixedDevices: true));
        var waiting = new WaitingJob(new JobTicket("w", 0, "default", DateTimeOffset.UnixEpoch), Stages(2, memoryMiB: 600), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "");
        Assert.False(waiting.FitsIn(nodes));
        Assert.True((waiting with { MixedDevices = true }).FitsIn(nodes));
    }

    [Fact]
    public void A_mixed_job_that_fits_across_kinds_once_others_leave_waits_for_capacity_instead_of_being_told_it_cannot_fit()
    {
        var h = new SchedulerTableHarness();
        h.Join("a/cpu0");
        h.Join("c/cuda:0");
        h.Table.Nodes["c/cuda:0"] = h.Table.Nodes["c/cuda:0"] with { Capabilities = h.Table.Nodes["c/cuda:0"].Capabilities with { Device = "cuda:0" } };
        Assert.True(h.Place("x", stages: 1, memoryBytes: 600 * MiB).Placement.Placed); // holds one node (exclusive nodes)

        var same = h.Place("same", new ReplicaRequest(Stages(2, memoryMiB: 600), [1], [])).Placement;
        Assert.Equal(PlacementRefusal.CannotFit, same.Refusal); // one kind never holds both stages, whoever leaves

        var mixed = h.Place("mixed", new ReplicaRequest(Stages(2, memoryMiB: 600), [1], []) { MixedDevices = true }).Placement;
        Assert.Equal(PlacementRefusal.WaitingForCapacity, mixed.Refusal);
        h.Release("x");
        var placed = h.Place("mixed", new ReplicaRequest(Stages(2, memoryMiB: 600), [1], []) { MixedDevices = true }).Placement;
        Assert.True(placed.Placed, placed.Reason);
    }

    [Fact]
    public void Scale_up_spreads_a_mixed_job_onto_another_kind_and_keeps_a_same_kind_job_on_its_own()
    {
        // Two stages packed on one CPU node; a faster CUDA node joined and is free.
        var job = new JobNodes(["a/cpu0", "a/cpu0"], [100 * MiB, 100 * MiB], ["s0", "s1"], 2, [1], 1);
        PlacementCandidate[] candidates = [Node("a/cpu0", "cpu", gigaflops: 10), Node("c/cuda:0", "cuda", gigaflops: 100)];
        var stages = Stages(2);

        var same = ScaleUpProposal.Propose("j", job, stages, candidates, minGain: 0.1);
        Assert.False(same.Placed);
        Assert.Equal(PlacementRefusal.NoImprovement, same.Refusal);

        var mixed = ScaleUpProposal.Propose("j", job with { MixedDevices = true }, stages, candidates, minGain: 0.1);
        Assert.True(mixed.Placed, mixed.Reason);
        Assert.Equal(["a/cpu0", "c/cuda:0"], mixed.NodeByStage);
    }
}
