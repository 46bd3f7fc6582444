using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13, "recovery flaps onto dead nodes": a node whose silo membership suspects (a fresh suspicion vote in the
/// membership table, the silo still Active) takes no stages — although its heartbeats are fresh — until the suspicion
/// is gone; meanwhile <c>nodes</c> says so.
/// </summary>
public sealed class SuspectedSiloPlacementTests(SuspicionClusterFixture fixture) : IClassFixture<SuspicionClusterFixture>
{
    private static readonly StageDemand[] OneStage = [new StageDemand(0, 1L << 20, 1)];
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_on_a_suspected_silo_takes_no_stages_until_the_suspicion_is_gone()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        // A node this test heartbeats for, on an active silo: fresh, ready and much faster than the real nodes, so the
        // policy picks it whenever it may.
        string silo = fixture.Cluster.Silos[1].Name;
        string node = $"{silo}/suspected0";
        await scheduler.Register(new NodeCapabilities(node, silo, "cpu", 1L << 30, 1000, 1));
        long sequence = 0;
        const string job = "suspected-silo-test";
        async Task<PlacementDecision> Place()
        {
            Assert.True(await scheduler.Heartbeat(new NodeHealth(node, NodeState.Ready, 1, 1, ++sequence, 0, 0, null, DateTimeOffset.UtcNow, 0)));
            var placement = await scheduler.PlaceReplicas(job, new ReplicaRequest(OneStage, [1], [new ReplicaNodes(0, [node])]));
            return placement.Placed
                ? new PlacementDecision(true, placement.Replicas[0].Nodes, null)
                : PlacementDecision.Refused(placement.Refusal, placement.Reason ?? "");
        }
        try
        {
            var before = await Eventually.Value(Place, d => d.Placed, Deadline, "a placement once the scheduler has settled");
            Assert.Equal([node], before.NodeByStage); // the test can fail: unsuspected, the stage lands there
            async Task<string?> Shown() => (await scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == node).NotPlaceable;
            Assert.Null(await Shown());

            fixture.Suspects[silo] = true;
            // The scheduler reads the votes at most once a second: the next reads see the vote.
            var moved = await Eventually.Value(Place, d => d.Placed && !d.NodeByStage.Contains(node), Deadline, "a placement off the suspected silo");
            Assert.DoesNotContain(silo, moved.NodeByStage.Select(NodeIds.SiloOf));
            Assert.StartsWith($"its silo {silo} is suspected by membership (a vote at ", await Shown(), StringComparison.Ordinal); // `nodes` says why
            for (int i = 0; i < 3; i++) // and it stays off while the vote stays fresh, heartbeats or not
            {
                var again = await Place();
                Assert.True(again.Placed, again.Reason);
                Assert.DoesNotContain(node, again.NodeByStage);
            }

            fixture.Suspects.TryRemove(silo, out _);
            var back = await Eventually.Value(Place, d => d.Placed && d.NodeByStage.Contains(node), Deadline, "the node placeable again once the vote is gone");
            Assert.Equal([node], back.NodeByStage);
        }
        finally
        {
            fixture.Suspects.Clear();
            await scheduler.Release(job);
        }
    }
}
