using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// The scheduler's persisted state (operators' node marks, team quotas) is written one write at a time: it is
/// reentrant, so a second operator call can change the state while the first one's write is still out. A store that
/// checks ETags per request (blob, table) refuses whichever of two overlapping writes lands second — after its change
/// was made in memory — so an operator is told the change failed, or a change is lost at the next activation.
/// </summary>
public sealed class SchedulerWriteOverlapTests(StorageOutageClusterFixture fixture) : IClassFixture<StorageOutageClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_cordon_and_a_quota_whose_writes_overlap_both_succeed_and_survive_a_new_activation()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var nodes = await scheduler.GetNodes();
        string cordoned = nodes[0].Capabilities.NodeId;
        const string team = "overlap-team";

        Task cordon, quota;
        StorageFaults.GrainState.Inject(SchedulerKeys.Default, FaultyGrainStorage.Write, FaultMode.Hang, times: 1);
        try
        {
            cordon = scheduler.Cordon(cordoned, "disk check");
            await Eventually.True(() => Task.FromResult(StorageFaults.GrainState.Hits(SchedulerKeys.Default, FaultyGrainStorage.Write) == 1),
                Deadline, "the cordon's write to be out (hung)");
            quota = scheduler.SetQuota(team, 3);
            // The quota is in the scheduler's memory once its call has run up to its write.
            await Eventually.True(async () => (await scheduler.GetQuotas()).Any(q => q.Team == team && q.MaxNodes == 3), Deadline, "the quota to be set in memory");
        }
        finally
        {
            StorageFaults.GrainState.Heal(SchedulerKeys.Default);
        }
        await cordon;
        await quota;

        string? host = fixture.HostOf(scheduler);
        await fixture.MoveGrainAsync(scheduler, fixture.Cluster.Silos.First(s => s.Name != host), scheduler.GetNodes);
        await Eventually.True(async () => (await scheduler.GetNodes()).Count == nodes.Count, Deadline, "every node registered with the new scheduler activation");
        var after = (await scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == cordoned);
        Assert.True(after is { Cordoned: true, Reason: "disk check" }, $"{cordoned}: cordoned {after.Cordoned}, reason '{after.Reason}'");
        Assert.Contains(await scheduler.GetQuotas(), q => q.Team == team && q.MaxNodes == 3);
    }
}
