using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// A holder that left a silo because it shuts down is never placed back there while another silo is Active — not by a
/// later move of its own either, placed by a silo that sees the leaving one still Active (its membership entry says so
/// until the stop's next stage). Back there it would have to leave again, and past the silo's last wait its copies would
/// go with the silo. The holder's key is chosen so that, among the silos the later move may use, it picks the leaving one.
/// </summary>
public sealed class SnapshotHolderLeftSiloTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    [Fact]
    public async Task A_holder_that_left_a_shutting_down_silo_is_not_moved_back_there_by_its_next_move()
    {
        var cluster = fixture.Cluster;
        string[] names = [.. cluster.Silos.Select(s => s.Name).Order(StringComparer.Ordinal)];
        string[] others = [.. cluster.Silos.Skip(1).Select(s => s.Name).Order(StringComparer.Ordinal)];
        var leaving = SnapshotRedundancyCluster.Silo(fixture, others[^1]);
        Assert.True(names[^1] == leaving.Name, $"the leaving silo {leaving.Name} must sort last among {string.Join(", ", names)}");
        // Both moves choose among two silos by the key: its second pick, which is the leaving silo the second time.
        string jobId = Enumerable.Range(0, 100).Select(i => $"holder-left-silo-{i}").First(id => SnapshotHolderPlacementDirector.HomeIndex(StageKeys.Shard(id, 0), 2) == 1);
        var spec = TinyJob.Spec(jobId, stages: 2, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var (_, holder, stageSilo) = await SnapshotRedundancyCluster.S0sHolderOn(fixture, spec, [others[0], others[1]], leaving);

        fixture.Leave.Arm(leaving.Name);
        var stopping = cluster.StopSiloAsync(leaving); // graceful; held in its Active stage once the evacuation ran
        try
        {
            await fixture.Leave.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            await Eventually.True(() => Task.FromResult(fixture.Logs.Of(leaving, "LogEvacuated").Count > 0), TimeSpan.FromMinutes(1),
                $"the leaving silo's evacuation to end{Environment.NewLine}{fixture.Logs.Dump(leaving)}");
            string? evacuatedTo = null;
            await Eventually.True(async () =>
            {
                await holder.GetLatestStep();
                evacuatedTo = fixture.HostOf(holder);
                return evacuatedTo is not null && evacuatedTo != leaving.Name;
            }, TimeSpan.FromMinutes(1), $"s0's holder to move off the leaving {leaving.Name}");
            output.WriteLine($"s0 on {stageSilo}; s0's holder left {leaving.Name} for {evacuatedTo}");

            // Had it gone back, its own ask to leave again would be held there: it would stay on the leaving silo.
            var holderId = holder.GetGrainId();
            fixture.Moment.Arm(call => call.SourceId == holderId && call.TargetId == holderId && call.InterfaceMethod.Name == nameof(ICheckpointShardGrain.LeaveShuttingDownSilo));
            try
            {
                // As the job asks before moving s0 onto the holder's silo: the holder makes room.
                RequestContext.Set(PlacementContextKeys.AvoidSilo, evacuatedTo!);
                RequestContext.Set(PlacementContextKeys.AlsoAvoidSilo, stageSilo);
                try
                {
                    await holder.MakeRoom((await job.GetStatus()).Epoch, evacuatedTo!);
                }
                finally
                {
                    RequestContext.Remove(PlacementContextKeys.AvoidSilo);
                    RequestContext.Remove(PlacementContextKeys.AlsoAvoidSilo);
                }
                long from = await holder.GetLatestStep();
                // Moved on, and either back on the leaving silo (held there) or holding 2 more steps where it went.
                await Eventually.True(async () => fixture.HostOf(holder) is { } on && on != evacuatedTo && (on == leaving.Name || await holder.GetLatestStep() >= from + 2),
                    TimeSpan.FromMinutes(1), $"s0's holder to move off {evacuatedTo} and hold 2 more steps");
                string? now = fixture.HostOf(holder);
                output.WriteLine($"s0's holder made room on {evacuatedTo}: now on {now}");
                Assert.True(now is not null && now != leaving.Name && now != stageSilo,
                    $"s0's holder moved from {evacuatedTo} to {now ?? "no silo"}; the leaving silo is {leaving.Name}, s0 is on {stageSilo}");
            }
            finally
            {
                fixture.Moment.Release();
            }
        }
        finally
        {
            fixture.Leave.Open();
        }
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));
        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
    }
}
