using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// <c>nodes</c> says why the scheduler passes over a node (<see cref="SchedulerTable.WhyNotPlaceable"/>), one reason per
/// rule of <see cref="SchedulerTable.IsPlaceable"/>, and placement answers from the same definition: a node with a
/// reason is no candidate, one without is.
/// </summary>
public sealed class NodePlaceabilityTests
{
    private static readonly HashSet<string> Active = new(StringComparer.Ordinal) { "silo-a" };

    private static string? Why(SchedulerTableHarness fleet, string nodeId, IReadOnlySet<string>? active = null) =>
        fleet.Table.WhyNotPlaceable(fleet.Table.Nodes[nodeId], fleet.Now, active ?? Active, silo => $"silo {silo} is not active");

    private static bool Candidate(SchedulerTableHarness fleet, string nodeId, IReadOnlySet<string>? active = null) =>
        fleet.Table.Candidates(fleet.Now, active ?? Active).Any(c => c.NodeId == nodeId);

    [Fact]
    public void A_live_node_on_an_active_silo_has_no_reason_and_is_a_candidate()
    {
        var fleet = new SchedulerTableHarness();
        fleet.Join("silo-a/cpu0");
        Assert.Null(Why(fleet, "silo-a/cpu0"));
        Assert.True(Candidate(fleet, "silo-a/cpu0"));
    }

    [Fact]
    public void Each_rule_that_keeps_a_node_out_is_named_and_the_node_is_no_candidate()
    {
        var fleet = new SchedulerTableHarness();
        foreach (string node in new[] { "silo-a/fresh", "silo-a/unhealthy", "silo-a/silent", "silo-b/cpu0", "silo-a/unreachable" }) fleet.Join(node);
        var fresh = fleet.Table.Nodes["silo-a/fresh"];
        fleet.Table.Nodes["silo-a/fresh"] = fresh with { Health = null, LastHeartbeat = null }; // registered, no heartbeat yet
        var unhealthy = fleet.Table.Nodes["silo-a/unhealthy"];
        fleet.Table.Nodes["silo-a/unhealthy"] = unhealthy with { Health = unhealthy.Health! with { State = NodeState.Unhealthy } };
        fleet.Lose("silo-a/silent");
        fleet.Table.Unreachable["silo-a/unreachable"] = fleet.Now;

        Assert.Equal("no heartbeat received yet", Why(fleet, "silo-a/fresh"));
        Assert.Equal("its last heartbeat says Unhealthy", Why(fleet, "silo-a/unhealthy"));
        Assert.StartsWith("no heartbeat for 3600.0 s (NodeTimeout 5 s)", Why(fleet, "silo-a/silent"), StringComparison.Ordinal);
        Assert.Equal("silo silo-b is not active", Why(fleet, "silo-b/cpu0"));
        Assert.StartsWith("a job reported it unreachable at 08:00:00.000", Why(fleet, "silo-a/unreachable"), StringComparison.Ordinal);
        foreach (string node in new[] { "silo-a/fresh", "silo-a/unhealthy", "silo-a/silent", "silo-b/cpu0", "silo-a/unreachable" })
            Assert.False(Candidate(fleet, node), node);

        // The same node once its silo is Active in the view placement uses: no reason, a candidate.
        var both = new HashSet<string>(StringComparer.Ordinal) { "silo-a", "silo-b" };
        Assert.Null(Why(fleet, "silo-b/cpu0", both));
        Assert.True(Candidate(fleet, "silo-b/cpu0", both));
    }

    [Fact]
    public void The_operators_marks_are_not_placeability_reasons()
    {
        var fleet = new SchedulerTableHarness();
        fleet.Join("silo-a/cpu0");
        fleet.Join("silo-a/cpu1");
        fleet.Cordon("silo-a/cpu0", true);
        fleet.Drain("silo-a/cpu1");
        // Cordons and drains have flags of their own in `nodes`; the reason is only for the liveness rules.
        Assert.Null(Why(fleet, "silo-a/cpu0"));
        Assert.Null(Why(fleet, "silo-a/cpu1"));
    }
}
