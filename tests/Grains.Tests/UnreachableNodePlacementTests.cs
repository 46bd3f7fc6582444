using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13, "recovery flaps onto dead nodes": a node a job reported unreachable takes no stages — not even the ones the
/// job prefers to keep there — although its last heartbeat is still fresh and its silo still active in membership, until
/// it heartbeats again.
/// </summary>
public sealed class UnreachableNodePlacementTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly StageDemand[] OneStage = [new StageDemand(0, 1L << 20, 1)];

    [Fact]
    public async Task A_node_reported_unreachable_takes_no_stages_until_it_heartbeats_again()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        // A node this test heartbeats for, on a silo that is an active member: fresh and ready, and much faster than the
        // real nodes, so the policy picks it whenever it may.
        string silo = fixture.Cluster.Silos[0].Name;
        string node = $"{silo}/unreachable0";
        await scheduler.Register(new NodeCapabilities(node, silo, "cpu", 1L << 30, 1000, 1));
        var health = new NodeHealth(node, NodeState.Ready, 1, 1, 1, 0, 0, null, DateTimeOffset.UtcNow, 0);
        Assert.True(await scheduler.Heartbeat(health));
        const string job = "unreachable-node-test";
        try
        {
            var before = await Eventually.Value(() => Place(scheduler, job, node), d => d.Placed, TimeSpan.FromSeconds(30),
                "a placement once the scheduler has settled");
            Assert.Equal([node], before.NodeByStage); // the test can fail: without a report the stage lands there

            await scheduler.ReportUnreachable(job, [node], "calls to its silo failed");
            var recovery = await Place(scheduler, job, node);
            Assert.True(recovery.Placed, recovery.Reason);
            Assert.DoesNotContain(node, recovery.NodeByStage);
            Assert.DoesNotContain(node, await scheduler.GetPlacement(job));

            // The same heartbeat again (an old one delivered late) proves nothing; a newer one does.
            Assert.True(await scheduler.Heartbeat(health));
            Assert.DoesNotContain(node, (await Place(scheduler, job, node)).NodeByStage);
            Assert.True(await scheduler.Heartbeat(health with { Sequence = 2, SentAt = DateTimeOffset.UtcNow }));
            var back = await Place(scheduler, job, node);
            Assert.Equal([node], back.NodeByStage);
        }
        finally
        {
            await scheduler.Release(job);
        }
    }

    /// <summary>The job's one stage, preferring <paramref name="node"/>: the node it got, or the refusal.</summary>
    private static async Task<PlacementDecision> Place(ISchedulerGrain scheduler, string job, string node)
    {
        var placement = await scheduler.PlaceReplicas(job, new ReplicaRequest(OneStage, [1], [new ReplicaNodes(0, [node])]));
        return placement.Placed
            ? new PlacementDecision(true, placement.Replicas[0].Nodes, null)
            : PlacementDecision.Refused(placement.Refusal, placement.Reason ?? "");
    }

    [Fact]
    public async Task A_report_naming_an_unknown_node_changes_nothing()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var nodes = await scheduler.GetNodes();
        await scheduler.ReportUnreachable("unknown-node-test", ["no-such-silo/cpu0"], "calls failed");
        Assert.Equal(nodes.Select(n => n.Capabilities.NodeId), (await scheduler.GetNodes()).Select(n => n.Capabilities.NodeId));
    }
}
