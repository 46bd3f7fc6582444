using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Cluster.Grains.Tests;

/// <summary>
/// A graceful leave is a move, not a failure, only while the leaving silo's nodes are alive to the scheduler: its drain
/// waits for the jobs' next step boundary to move their stages, which on a real model takes seconds. The host stopped
/// the heartbeats' forwarding (<c>SiloHealthAggregator</c>) before the silo's stop even began, so one NodeTimeout into a
/// drain the scheduler declared the nodes lost and their jobs recovered instead of moving (found by
/// <c>KillDuringLeaveProcessTests</c>). Here the silo's stop is held in its Active stage, as a slow drain would hold it,
/// for longer than NodeTimeout: its nodes must still heartbeat, and be lost only once the silo is no longer Active.
/// </summary>
public sealed class LeavingSiloHeartbeatTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    [Fact]
    public async Task A_silo_that_shuts_down_gracefully_keeps_its_nodes_heartbeating_until_it_is_no_longer_active()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await scheduler.GetNodes();
        string? schedulerSilo = fixture.HostOf(scheduler);
        var leaving = fixture.Cluster.Silos.Skip(1).Last(s => s.Name != schedulerSilo);
        var nodeTimeout = leaving.ServiceProvider.GetRequiredService<IOptions<TrainingClusterOptions>>().Value.NodeTimeout;
        NodeInfo[] Mine(IReadOnlyList<NodeInfo> nodes) => [.. nodes.Where(n => n.Capabilities.SiloName == leaving.Name)];
        static string Told(NodeInfo[] nodes) =>
            string.Join("; ", nodes.Select(n => $"{n.Capabilities.NodeId}: last heartbeat sent {n.Health?.SentAt:HH:mm:ss.fff}, lost {n.Lost}"));

        fixture.Leave.Arm(leaving.Name);
        var stopping = fixture.Cluster.StopSiloAsync(leaving); // graceful; held in its Active stage until the gate opens
        NodeInfo[] during;
        DateTimeOffset held;
        try
        {
            await fixture.Leave.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            held = DateTimeOffset.UtcNow;
            output.WriteLine($"{leaving.Name}'s stop held at {held:HH:mm:ss.fff}; NodeTimeout {nodeTimeout.TotalSeconds} s");
            // Heartbeats sent more than NodeTimeout into the held stop reached the scheduler — or it declared the nodes lost.
            during = Mine(await Eventually.Value(scheduler.GetNodes,
                nodes => Mine(nodes) is { Length: > 0 } mine && (mine.All(n => n.Health?.SentAt > held + nodeTimeout) || mine.Any(n => n.Lost)),
                TimeSpan.FromSeconds(60), $"{leaving.Name}'s nodes to heartbeat {nodeTimeout.TotalSeconds} s into its held stop, or be declared lost"));
        }
        finally
        {
            fixture.Leave.Open();
        }
        output.WriteLine($"during the stop: {Told(during)}");
        Assert.True(during.Length == ClusterFixture.SlotsPerSilo && during.All(n => !n.Lost),
            $"{leaving.Name}'s nodes were declared lost while its stop was held in its Active stage (a drain in progress): {Told(during)}");

        await stopping;
        // No longer Active: the scheduler knows the nodes gone by their silo's status.
        var after = Mine(await Eventually.Value(scheduler.GetNodes, nodes => Mine(nodes).All(n => n.Lost), TimeSpan.FromSeconds(60),
            $"{leaving.Name}'s nodes to be lost once it has left"));
        output.WriteLine($"after the stop: {Told(after)}");
    }
}
