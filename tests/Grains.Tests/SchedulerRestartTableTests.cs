using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// The scheduler's decision core after a restart and around a failed preemption (issue 13): nodes that report stages of
/// a job that has not reported are held back until it is reconciled; a late job's move adopts the nodes it still holds;
/// a failed preemption checkpoint makes room elsewhere at once.
/// </summary>
public sealed class SchedulerRestartTableTests
{
    private static readonly string[] Fleet = ["a/cpu0", "a/cpu1", "b/cpu0", "b/cpu1"];

    [Fact]
    public void Nodes_running_stages_of_a_job_that_has_not_reported_are_held_back_until_it_is_reconciled()
    {
        var h = new SchedulerTableHarness();
        foreach (string node in Fleet) h.Join(node);
        h.Enqueue("running");
        var running = h.Place("running", stages: 2, epoch: 3).Placement;
        Assert.True(running.Placed, running.Reason);
        string[] held = [.. running.Replicas[0].Nodes];
        h.Restart();
        Assert.Empty(h.Table.Jobs);

        // A job that needs every node as its own gang waits, saying which nodes are held back and for whom.
        h.Enqueue("gang");
        var gang = h.Place("gang", stages: 2, counts: [2]).Placement;
        Assert.Equal(PlacementRefusal.WaitingForCapacity, gang.Refusal);
        Assert.Contains("held back", gang.Reason, StringComparison.Ordinal);
        Assert.Contains("running", gang.Reason, StringComparison.Ordinal);
        Assert.All(held, node => Assert.Contains(node, gang.Reason, StringComparison.Ordinal));

        // One that fits beside it goes on the other nodes only.
        h.Enqueue("small");
        var small = h.Place("small", stages: 2).Placement;
        Assert.True(small.Placed, small.Reason);
        Assert.Empty(small.Replicas[0].Nodes.Intersect(held));

        // The silent job answers: adopted as it runs, in its epoch.
        Assert.True(h.Answer("running"));
        Assert.Equal(held, h.Table.Jobs["running"].Nodes);
        Assert.Equal(3, h.Table.Jobs["running"].Epoch);
    }

    [Fact]
    public void A_silent_job_that_releases_or_outlives_the_hold_no_longer_holds_its_nodes_back()
    {
        var hold = TimeSpan.FromMinutes(1);
        var h = new SchedulerTableHarness(silentJobHold: hold);
        foreach (string node in Fleet) h.Join(node);
        h.Enqueue("first");
        h.Enqueue("second");
        Assert.True(h.Place("first", stages: 2).Placement.Placed);
        Assert.True(h.Place("second", stages: 2).Placement.Placed);
        h.Restart();
        var restartedAt = h.Now;
        // The nodes view says which job each node is held for, since when and until when at the latest.
        var holds = h.Table.Holds(h.Now);
        Assert.Equal(Fleet, holds.Keys.Order(StringComparer.Ordinal));
        Assert.All(h.Silent["first"].Nodes, node => Assert.Equal(["first"], holds[node].JobIds));
        Assert.All(holds.Values, hold1 => Assert.Equal((restartedAt, restartedAt + hold), (hold1.Since, hold1.Until)));
        h.Enqueue("waiting");
        Assert.False(h.Place("waiting", stages: 1).Placement.Placed); // every node runs a silent job's stages

        h.Release("first"); // finished before it reported: its nodes are free
        var placed = h.Place("waiting", stages: 1).Placement;
        Assert.True(placed.Placed, placed.Reason);
        Assert.Empty(placed.Replicas[0].Nodes.Intersect(h.Silent["second"].Nodes));
        h.Release("waiting");

        // Past the hold the node's word alone no longer keeps them out of placement.
        Assert.NotEmpty(h.Table.HeldBack(h.Now));
        h.Advance(hold + TimeSpan.FromSeconds(1));
        Assert.False(h.Table.IsSilent("second", h.Now));
        Assert.Empty(h.Table.HeldBack(h.Now));
        Assert.Empty(h.Table.Holds(h.Now));
    }

    [Fact]
    public void A_late_jobs_move_adopts_the_nodes_it_still_holds()
    {
        StageDemand[] stages = [new(0, 1L << 20, 1), new(1, 1L << 20, 1)];
        ReplicaNodes[] moving = [new(0, ["a/cpu0", ""]), new(1, ["b/cpu0", "b/cpu1"])];
        NodeRecord[] nodes = [.. Fleet.Select(id => new NodeRecord(new NodeCapabilities(id, id.Split('/')[0], "cpu", 1L << 30, 10, 1), null, null))];

        // The job says what it holds: every replica is adopted, the one it moves included.
        var withHeld = new ReplicaRequest(stages, [2], moving) { Held = [new(0, ["a/cpu0", "a/cpu1"]), new(1, ["b/cpu0", "b/cpu1"])] };
        Assert.Equal(["a/cpu0", "a/cpu1", "b/cpu0", "b/cpu1"], LateClaim.Replicas("job", withHeld, nodes).SelectMany(r => r.Nodes));

        // A job of an older version does not: the blank is filled from the node that reports the stage (newest epoch).
        var withoutHeld = new ReplicaRequest(stages, [2], moving);
        Assert.Equal(["b/cpu0", "b/cpu1"], LateClaim.Replicas("job", withoutHeld, nodes).SelectMany(r => r.Nodes));
        nodes[1] = nodes[1] with { Health = Health("a/cpu1", new NodeOccupant("job", 4, 0, 1), new NodeOccupant("other", 9, 0, 1)) };
        nodes[2] = nodes[2] with { Health = Health("b/cpu0", new NodeOccupant("job", 2, 0, 1)) }; // an older epoch's stage, not yet gone
        var filled = LateClaim.Replicas("job", withoutHeld, nodes);
        Assert.Equal(["a/cpu0", "a/cpu1"], filled[0].Nodes);
        Assert.Equal(["b/cpu0", "b/cpu1"], filled[1].Nodes);
    }

    [Fact]
    public void A_failed_preemption_checkpoint_makes_room_elsewhere_at_once()
    {
        var h = new SchedulerTableHarness(releaseTimeout: TimeSpan.FromMinutes(10));
        h.Join("a/cpu0");
        h.Join("b/cpu0");
        h.Enqueue("low-old");
        Assert.True(h.Place("low-old", stages: 1, epoch: 1).Placement.Placed);
        h.Advance(TimeSpan.FromSeconds(1));
        h.Enqueue("low-new");
        Assert.True(h.Place("low-new", stages: 1, epoch: 1).Placement.Placed);
        h.Enqueue("high", priority: 5);
        var (_, asked) = h.Place("high", stages: 1);
        Assert.Equal(["low-new"], asked.Select(r => r.JobId));

        // Its checkpoint fails: long before the release timeout, the next victim is asked.
        Assert.Null(h.Table.PreemptionFailed("low-old", 1, "not asked")); // nothing was asked of it
        Assert.NotNull(h.Table.PreemptionFailed("low-new", 1, "storage unavailable"));
        var (waiting, askedNext) = h.Place("high", stages: 1);
        Assert.Equal(PlacementRefusal.WaitingForPreemption, waiting.Refusal);
        Assert.Equal(["low-old"], askedNext.Select(r => r.JobId));

        // That one fails too: no victim is left, and the waiting job is told why.
        Assert.NotNull(h.Table.PreemptionFailed("low-old", 1, "storage unavailable"));
        var (told, none) = h.Place("high", stages: 1);
        Assert.Equal(PlacementRefusal.WaitingForCapacity, told.Refusal);
        Assert.Empty(none);
        Assert.Contains("preemption checkpoint failed (storage unavailable)", told.Reason, StringComparison.Ordinal);
        Assert.Equal(2, h.Table.Jobs.Count); // both keep their nodes

        h.Release("low-old"); // it committed after all and let go
        Assert.True(h.Place("high", stages: 1).Placement.Placed);
    }

    private static NodeHealth Health(string nodeId, params NodeOccupant[] occupants) =>
        new(nodeId, NodeState.Ready, 1, 1, 1, 0, 0, null, DateTimeOffset.UnixEpoch, occupants.Length) { Occupants = occupants };
}
