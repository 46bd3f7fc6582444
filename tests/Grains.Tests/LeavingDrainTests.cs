using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// A silo's graceful shutdown drains its nodes for that incarnation of the silo only (<c>SchedulerGrain.DrainLeaving</c>):
/// the node takes no new stages while the leaving incarnation is the silo of its name, and takes stages again once a
/// silo of that name is active at another address — a rolling update restarted the machine. Before, a restarted
/// machine stayed drained until an operator uncordoned it, and a rolling update drained the whole fleet.
/// </summary>
public sealed class LeavingDrainTests(CoordinatorLossClusterFixture fixture) : IClassFixture<CoordinatorLossClusterFixture>
{
    /// <summary>
    /// A storage outage does not keep a machine from leaving gracefully: the scheduler's grain state cannot be written,
    /// and the node is drained for the leave all the same (only a scheduler re-activated during it would not know).
    /// </summary>
    [Fact]
    public async Task A_leave_drains_the_node_while_the_schedulers_storage_is_out()
    {
        var silo = fixture.Cluster.Silos[2];
        var scheduler = silo.SiloHost.Services.GetRequiredService<IGrainFactory>().GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var node = (await Eventually.Value(scheduler.GetNodes, n => n.Any(x => x.Capabilities.SiloName == silo.Name && !x.Draining), TimeSpan.FromMinutes(1),
            $"a node of {silo.Name}")).First(x => x.Capabilities.SiloName == silo.Name && !x.Draining);
        StorageFaults.GrainState.Inject(SchedulerKeys.Default, FaultyGrainStorage.Write, FaultMode.Fail);
        try
        {
            var info = await scheduler.DrainLeaving(node.Capabilities.NodeId, silo.SiloAddress.ToParsableString());
            Assert.True(info.Draining, "the leave was not applied while the scheduler's storage was out");
            Assert.True(StorageFaults.GrainState.Hits(SchedulerKeys.Default, FaultyGrainStorage.Write) >= 1, "the leave never tried to save itself");
        }
        finally
        {
            StorageFaults.GrainState.Heal(SchedulerKeys.Default);
        }
        Assert.True(Node(await scheduler.GetNodes(), node).Draining);
    }

    [Fact]
    public async Task A_leave_drains_a_node_until_its_silo_is_back_as_another_incarnation()
    {
        var silo = fixture.Cluster.Silos[1];
        // DrainLeaving is a silo's call, not an operator's: made from inside a silo, as DrainOnShutdown makes it.
        var scheduler = silo.SiloHost.Services.GetRequiredService<IGrainFactory>().GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var nodes = await Eventually.Value(scheduler.GetNodes, n => n.Count(x => x.Capabilities.SiloName == silo.Name) >= 2, TimeSpan.FromMinutes(1), $"two nodes of {silo.Name}");
        var (leaving, restarted) = (nodes.First(n => n.Capabilities.SiloName == silo.Name), nodes.Last(n => n.Capabilities.SiloName == silo.Name));

        // The incarnation that runs now is leaving: its node moves its stages off and takes none, whatever registers.
        var info = await scheduler.DrainLeaving(leaving.Capabilities.NodeId, silo.SiloAddress.ToParsableString());
        Assert.True(info.Draining && !info.Cordoned, $"draining {info.Draining}, cordoned {info.Cordoned}");
        Assert.Equal("its silo is shutting down", info.Reason);
        await scheduler.Register(leaving.Capabilities); // a registration from the leaving silo itself ends nothing
        Assert.True(Node(await scheduler.GetNodes(), leaving).Draining, "the node of the leaving incarnation took stages again");

        // An earlier incarnation of the silo left (another generation at the same endpoint): the silo of that name is
        // active now at another address, so the node's leave ends at its next registration.
        var earlier = SiloAddress.New(silo.SiloAddress.Endpoint, silo.SiloAddress.Generation - 1).ToParsableString();
        Assert.True((await scheduler.DrainLeaving(restarted.Capabilities.NodeId, earlier)).Draining);
        await scheduler.Register(restarted.Capabilities);
        var back = Node(await scheduler.GetNodes(), restarted);
        Assert.True(!back.Draining && !back.Cordoned && back.Reason is null, $"draining {back.Draining}, cordoned {back.Cordoned}, reason {back.Reason}");
        Assert.True(Node(await scheduler.GetNodes(), leaving).Draining, "the leaving incarnation's node took stages again");

        // An operator's mark is another matter: it outlives a leave and the silo's return.
        await scheduler.Cordon(restarted.Capabilities.NodeId);
        await scheduler.DrainLeaving(restarted.Capabilities.NodeId, earlier);
        await scheduler.Register(restarted.Capabilities);
        var cordoned = Node(await scheduler.GetNodes(), restarted);
        Assert.True(cordoned.Cordoned && !cordoned.Draining, $"draining {cordoned.Draining}, cordoned {cordoned.Cordoned}");
        await scheduler.Uncordon(restarted.Capabilities.NodeId);
    }

    [Fact]
    public async Task A_leave_names_a_silo_address_or_says_what_it_needs()
    {
        var scheduler = fixture.Cluster.Silos[0].SiloHost.Services.GetRequiredService<IGrainFactory>().GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        // Not one the other test of this class left draining.
        var node = (await Eventually.Value(scheduler.GetNodes, n => n.Any(x => !x.Draining), TimeSpan.FromMinutes(1), "a node that is not draining")).First(n => !n.Draining);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => scheduler.DrainLeaving(node.Capabilities.NodeId, "silo-b"));
        Assert.Contains("not a parsable silo address", e.Message, StringComparison.Ordinal);
        Assert.False(Node(await scheduler.GetNodes(), node).Draining);
    }

    private static NodeInfo Node(IReadOnlyList<NodeInfo> nodes, NodeInfo of) => nodes.Single(n => n.Capabilities.NodeId == of.Capabilities.NodeId);
}
