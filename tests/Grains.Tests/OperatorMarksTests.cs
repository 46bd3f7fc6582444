using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// An operator's cordon or drain (and its reason) outlives the scheduler: a scheduler activation that starts over
/// (its silo died, or it moved) puts the mark back when the node registers again, instead of handing the node out.
/// </summary>
public sealed class OperatorMarksTests(OperatorMarksTests.Fixture fixture) : IClassFixture<OperatorMarksTests.Fixture>
{
    /// <summary>A cluster of its own: the test moves the scheduler and leaves nodes marked while it runs.</summary>
    public sealed class Fixture() : ClusterFixture(3);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Cordons_and_drains_with_their_reasons_survive_a_new_scheduler_activation()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var nodes = await scheduler.GetNodes();
        string cordoned = nodes[0].Capabilities.NodeId, drained = nodes[^1].Capabilities.NodeId;
        await scheduler.Cordon(cordoned, "disk check");
        await scheduler.Drain(drained, "kernel upgrade");

        await MoveScheduler(scheduler);
        await Eventually.True(async () => (await scheduler.GetNodes()).Count == nodes.Count, Deadline, "every node registered with the new scheduler activation");
        var after = (await scheduler.GetNodes()).ToDictionary(n => n.Capabilities.NodeId);
        Assert.True(after[cordoned] is { Cordoned: true, Draining: false, Reason: "disk check" }, Describe(after[cordoned]));
        Assert.True(after[drained] is { Cordoned: true, Draining: true, Reason: "kernel upgrade" }, Describe(after[drained]));
        Assert.All(after.Values.Where(n => n.Capabilities.NodeId != cordoned && n.Capabilities.NodeId != drained), n => Assert.False(n.Cordoned, Describe(n)));

        // Uncordoning clears the mark for good: the next activation hands both nodes out again.
        await scheduler.Uncordon(cordoned);
        await scheduler.Uncordon(drained);
        await MoveScheduler(scheduler);
        await Eventually.True(async () => (await scheduler.GetNodes()).Count == nodes.Count, Deadline, "every node registered again");
        Assert.All(await scheduler.GetNodes(), n => Assert.False(n.Cordoned || n.Draining || n.Reason is not null, Describe(n)));
    }

    private async Task MoveScheduler(ISchedulerGrain scheduler)
    {
        string? host = fixture.HostOf(scheduler);
        var target = fixture.Cluster.Silos.First(s => s.Name != host);
        await fixture.MoveGrainAsync(scheduler, target, scheduler.GetNodes);
    }

    private static string Describe(NodeInfo n) =>
        $"{n.Capabilities.NodeId}: cordoned {n.Cordoned}, draining {n.Draining}, reason '{n.Reason}'";
}
