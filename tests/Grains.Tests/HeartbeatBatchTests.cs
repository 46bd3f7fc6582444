using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>The scheduler's batch heartbeat (what each silo's health aggregator sends): recorded like single ones, unknown nodes named.</summary>
public sealed class HeartbeatBatchTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_batch_records_each_known_nodes_heartbeat_and_names_the_unknown_ones()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        // A node of a silo that is not in the cluster: only this test heartbeats for it.
        await scheduler.Register(new NodeCapabilities("batch-test/cpu0", "batch-test", "cpu", 1L << 30, 10, 1));
        var health = new NodeHealth("batch-test/cpu0", NodeState.Ready, 7, 123.5, 200, 0, 0, null, DateTimeOffset.UtcNow, 0);
        var stranger = health with { NodeId = "batch-test/cpu9" };

        var unknown = await scheduler.HeartbeatBatch([health, stranger]);

        Assert.Equal(["batch-test/cpu9"], unknown);
        var recorded = (await scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == "batch-test/cpu0");
        Assert.Equal(7, recorded.Health?.Sequence);
        Assert.Equal(123.5, recorded.Health?.StepTimeP50Ms);
        Assert.NotNull(recorded.LastHeartbeatAt);
        Assert.DoesNotContain(await scheduler.GetNodes(), n => n.Capabilities.NodeId == "batch-test/cpu9");

        // An older heartbeat in a later batch does not overwrite a newer one, as with single heartbeats.
        Assert.Empty(await scheduler.HeartbeatBatch([health with { Sequence = 6, StepTimeP50Ms = 1 }]));
        Assert.Equal(123.5, (await scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == "batch-test/cpu0").Health?.StepTimeP50Ms);
    }

    [Fact]
    public async Task A_node_that_registers_again_after_a_restart_has_its_new_heartbeats_recorded()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var capabilities = new NodeCapabilities("batch-test/cpu5", "batch-test", "cpu", 1L << 30, 10, 1);
        await scheduler.Register(capabilities);
        var health = new NodeHealth("batch-test/cpu5", NodeState.Ready, 500, 10, 20, 0, 0, null, DateTimeOffset.UtcNow, 0);
        Assert.True(await scheduler.Heartbeat(health));

        // The node's silo came back: a new node grain registers and counts its heartbeats from 1 again.
        await scheduler.Register(capabilities);
        Assert.True(await scheduler.Heartbeat(health with { Sequence = 1, StepTimeP50Ms = 42 }));

        var recorded = (await scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == "batch-test/cpu5");
        Assert.Equal(1, recorded.Health?.Sequence);
        Assert.Equal(42, recorded.Health?.StepTimeP50Ms);
    }

    [Fact]
    public async Task Node_heartbeats_reach_the_scheduler_through_the_silo_aggregators()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var before = (await scheduler.GetNodes()).Where(n => n.Capabilities.SiloName != "batch-test").ToDictionary(n => n.Capabilities.NodeId, n => n.Health?.Sequence ?? 0);
        await Eventually.True(async () => (await scheduler.GetNodes()).Where(n => n.Capabilities.SiloName != "batch-test").All(n => (n.Health?.Sequence ?? 0) > before.GetValueOrDefault(n.Capabilities.NodeId) + 2),
            TimeSpan.FromSeconds(30), "every node's heartbeat sequence advancing by more than 2 (heartbeats every 100 ms, batched per silo)");
    }
}
