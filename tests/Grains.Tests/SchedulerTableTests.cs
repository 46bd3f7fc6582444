using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>The scheduler's decision core (issue 13): typed refusals that change nothing, and preemption as a protocol with a timeout.</summary>
public sealed class SchedulerTableTests
{
    [Fact]
    public void A_refusal_changes_nothing_in_the_table()
    {
        var h = new SchedulerTableHarness();
        h.Join("a/cpu0");
        h.Join("b/cpu0");
        var placed = h.Place("x", stages: 1).Placement;
        Assert.True(placed.Placed, placed.Reason);
        var row = h.Table.Jobs["x"];

        // A move that cannot fit (a stage larger than any node) is refused; the job keeps its nodes, in its epoch.
        var (refused, requests) = h.Place("x", stages: 1, memoryBytes: 2L << 30);
        Assert.False(refused.Placed);
        Assert.Equal(PlacementRefusal.CannotFit, refused.Refusal);
        Assert.Empty(requests);
        Assert.Same(row, h.Table.Jobs["x"]);
        Assert.Empty(h.Table.Waiting); // a job that holds nodes runs: it does not queue

        // A gang that needs more nodes than there are: refused for capacity, and again nothing moved.
        var gang = h.Place("x", stages: 2, counts: [2]).Placement;
        Assert.Equal(PlacementRefusal.WaitingForCapacity, gang.Refusal);
        Assert.Same(row, h.Table.Jobs["x"]);
    }

    [Fact]
    public void Refusals_carry_a_kind_callers_switch_on()
    {
        var h = new SchedulerTableHarness();
        h.Join("a/cpu0");
        h.Join("b/cpu0");
        h.Enqueue("big", priority: 0);
        Assert.True(h.Place("big", stages: 2).Placement.Placed);

        // Nodes that would fit are all held: waiting, not "cannot fit" (the job must not fail for it).
        h.Enqueue("other", priority: 0);
        var held = h.Place("other", stages: 1, memoryBytes: 900L << 20).Placement;
        Assert.Equal(PlacementRefusal.WaitingForCapacity, held.Refusal);
        Assert.Contains("other", h.Table.Waiting.Keys);

        h.Release("big");
        Assert.True(h.Place("other", stages: 1, memoryBytes: 900L << 20, epoch: 5).Placement.Placed);
        Assert.Equal(PlacementRefusal.StaleEpoch, h.Place("other", stages: 1, epoch: 4).Placement.Refusal);

        h.Quotas["capped"] = 0;
        h.Enqueue("team-job", team: "capped");
        Assert.Equal(PlacementRefusal.OverQuota, h.Place("team-job", stages: 1).Placement.Refusal);
    }

    [Fact]
    public void Preemption_is_a_request_and_an_overdue_one_does_not_keep_a_job_waiting_for_ever()
    {
        var timeout = TimeSpan.FromSeconds(30);
        var h = new SchedulerTableHarness(releaseTimeout: timeout);
        h.Join("a/cpu0");
        h.Join("b/cpu0");
        h.Enqueue("low-old");
        Assert.True(h.Place("low-old", stages: 1).Placement.Placed);
        h.Advance(TimeSpan.FromSeconds(1));
        h.Enqueue("low-new");
        Assert.True(h.Place("low-new", stages: 1).Placement.Placed);
        var rows = h.Table.Jobs.ToDictionary(j => j.Key, j => j.Value);

        // The high-priority job is refused; the newest lower-priority job is asked (a message), and nothing moved yet.
        h.Enqueue("high", priority: 5);
        var (first, asked) = h.Place("high", stages: 1);
        Assert.Equal(PlacementRefusal.WaitingForPreemption, first.Refusal);
        Assert.Equal(["low-new"], asked.Select(r => r.JobId));
        Assert.Equal(rows, h.Table.Jobs);
        Assert.Equal(PlacementRefusal.WaitingForPreemption, h.Place("high", stages: 1).Placement.Refusal);
        Assert.Empty(h.Place("high", stages: 1).Requests); // asked once, not again while it is pending

        // low-new's checkpoint fails: it never frees its nodes. Past the timeout the scheduler stops counting on it
        // and asks the next victim instead.
        h.Advance(timeout + TimeSpan.FromSeconds(1));
        var (second, askedNext) = h.Place("high", stages: 1);
        Assert.Equal(PlacementRefusal.WaitingForPreemption, second.Refusal);
        Assert.Equal(["low-old"], askedNext.Select(r => r.JobId));

        h.Release("low-old"); // it checkpointed and let go
        var placed = h.Place("high", stages: 1).Placement;
        Assert.True(placed.Placed, placed.Reason);
        Assert.Equal(rows["low-old"].Nodes, placed.Replicas[0].Nodes);
    }

    [Fact]
    public void A_shrink_request_is_resolved_when_the_job_places_again_with_fewer_replicas()
    {
        var h = new SchedulerTableHarness();
        foreach (var id in new[] { "a/cpu0", "b/cpu0", "c/cpu0", "d/cpu0" }) h.Join(id);
        h.Enqueue("elastic");
        var grown = h.Place("elastic", stages: 1, counts: [1, 2, 3, 4]).Placement;
        Assert.Equal(4, grown.Replicas.Count);

        h.Enqueue("newcomer");
        var (waiting, asked) = h.Place("newcomer", stages: 1);
        Assert.Equal(PlacementRefusal.WaitingForShrink, waiting.Refusal);
        var ask = Assert.Single(asked);
        Assert.Equal(3, ask.KeepReplicas);
        Assert.Equal(4, h.Table.Jobs["elastic"].Replicas); // asked, not taken

        Assert.True(h.Place("elastic", stages: 1, counts: [1, 2, 3]).Placement.Placed);
        Assert.Empty(h.Table.Pending);
        Assert.True(h.Place("newcomer", stages: 1).Placement.Placed);
    }

    [Fact]
    public void A_placement_with_fewer_replicas_than_asked_says_why_and_one_with_the_most_says_nothing()
    {
        var h = new SchedulerTableHarness();
        foreach (var id in new[] { "a/cpu0", "b/cpu0", "c/cpu0" }) h.Join(id);
        h.Enqueue("elastic");
        var fewer = h.Place("elastic", stages: 2, counts: [1, 2]).Placement;
        Assert.True(fewer.Placed, fewer.Reason);
        Assert.Single(fewer.Replicas);
        Assert.Equal("2 replicas × 2 stages need 4 nodes of their own; 3 are free.", fewer.Reason);

        h.Join("d/cpu0");
        var most = h.Place("elastic", stages: 2, counts: [1, 2]).Placement;
        Assert.Equal(2, most.Replicas.Count);
        Assert.Null(most.Reason);
    }
}
