using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Silos;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Placement;

namespace Cluster.Grains.Tests;

public sealed class NodePlacementTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Every_node_grain_lives_on_its_own_silo()
    {
        var nodes = await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes();
        Assert.Equal(ClusterFixture.Silos * ClusterFixture.SlotsPerSilo, nodes.Count);
        var silos = fixture.Cluster.Silos.Select(s => s.Name).ToHashSet();
        foreach (var node in nodes)
        {
            string expectedSilo = NodeIds.SiloOf(node.Capabilities.NodeId)!;
            Assert.Contains(expectedSilo, silos);
            Assert.Equal(expectedSilo, await fixture.Client.GetGrain<INodeGrain>(node.Capabilities.NodeId).GetSiloName());
            Assert.Equal(expectedSilo, node.Capabilities.SiloName);
            Assert.True(node.Capabilities.GigaflopsMeasured > 0, $"{node.Capabilities.NodeId} measured no throughput");
            Assert.NotNull(node.Health);
            Assert.Equal(NodeState.Ready, node.Health!.State);
        }
    }

    [Fact]
    public async Task A_node_of_an_unknown_silo_fails_fast_with_a_clear_error()
    {
        var call = fixture.Client.GetGrain<INodeGrain>("no-such-machine/cpu0").GetSiloName();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("no-such-machine", error.Message, StringComparison.Ordinal);
        Assert.Contains("not an active member", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_device_of_a_known_silo_is_refused_naming_the_devices_it_has()
    {
        string silo = fixture.Cluster.Silos[0].Name;
        var exposed = await SiloNodes.OfAsync(fixture.Client, silo); // what the silo has: cpu0 here, cuda0 on a GPU machine
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Client.GetGrain<INodeGrain>($"{silo}/cpu7").GetSiloName().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"{silo}/cpu7", error.Message, StringComparison.Ordinal);
        Assert.All(exposed, node => Assert.Contains(node, error.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Heartbeats_keep_arriving()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var before = (await scheduler.GetNodes()).ToDictionary(n => n.Capabilities.NodeId, n => n.Health!.Sequence);
        await Eventually.True(async () => (await scheduler.GetNodes()).All(n => n.Health!.Sequence > before[n.Capabilities.NodeId]),
            TimeSpan.FromSeconds(10), "a newer heartbeat from every node");
    }

    /// <summary>
    /// Orleans 10.4 migrates an activation that has queued calls when its silo shuts down, unless its type is immovable.
    /// A node (or silo-build) grain belongs to its silo: its placement director refuses every other silo, which Orleans
    /// logged as "Error while selecting a migration destination" at the demo's shutdown. Immovable types never try.
    /// </summary>
    [Fact]
    public void Node_and_silo_build_grains_never_migrate_when_their_silo_shuts_down()
    {
        var properties = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<GrainPropertiesResolver>();
        foreach (var grain in new IAddressable[] { fixture.Client.GetGrain<INodeGrain>("any/cpu0"), fixture.Client.GetGrain<ISiloBuildGrain>("any") })
        {
            var type = grain.GetGrainId().Type;
            Assert.True(properties.GetGrainProperties(type).Properties.TryGetValue(WellKnownGrainTypeProperties.Immovable, out string? kind),
                $"grain type {type} is movable: Orleans would try to migrate it off a silo that shuts down");
            Assert.Equal(((byte)ImmovableKind.Any).ToString(System.Globalization.CultureInfo.InvariantCulture), kind);
        }
    }
}
