using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;
using Cluster.Grains.Storage;

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
    public async Task A_cordon_and_a_quota_whose_writes_overlap_both_succeed_and_are_both_stored()
    {
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var nodes = await scheduler.GetNodes();
        string cordoned = nodes[0].Capabilities.NodeId;
        const string team = "overlap-team";

        Task cordon, quota;
        int hits = StorageFaults.GrainState.Hits(SchedulerKeys.Default, FaultyGrainStorage.Write);
        StorageFaults.GrainState.Inject(SchedulerKeys.Default, FaultyGrainStorage.Write, FaultMode.Hang, times: 1);
        try
        {
            cordon = scheduler.Cordon(cordoned, "disk check");
            await Eventually.True(() => Task.FromResult(StorageFaults.GrainState.Hits(SchedulerKeys.Default, FaultyGrainStorage.Write) > hits),
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

        // What a new activation would read: the stored record itself (a migration would carry the memory across).
        using var writers = new JobStateWriters();
        var serializer = writers.NewSerializer();
        var stored = new GrainState<SchedulerState>(new SchedulerState());
        await new FileSystemGrainStorage(StorageNames.Jobs, new TrainingClusterOptions { DataRoot = fixture.DataRoot }.ResolvedStatePath, serializer)
            .ReadStateAsync("scheduler", scheduler.GetGrainId(), stored);
        Assert.True(stored.RecordExists && stored.State is not null, "no scheduler state was stored");
        Assert.Equal(new OperatorNodeMark(Draining: false, "disk check"), stored.State!.NodeMarks.GetValueOrDefault(cordoned));
        Assert.Equal(3, stored.State.Quotas.GetValueOrDefault(team));
    }
}
