using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Tests;

/// <summary>
/// The cause of the "s0: none" recoveries: a stage that moves onto its snapshot holder's silo. The holder must move
/// away before the next step, so losing that silo next still costs no completed step.
/// </summary>
public sealed class SnapshotHolderPlacementTests(SnapshotHolderPlacementTests.Fixture fixture) : IClassFixture<SnapshotHolderPlacementTests.Fixture>
{
    /// <summary>A cluster of its own: the test loses two silos.</summary>
    public sealed class Fixture() : ClusterFixture(4);

    [Fact]
    public async Task A_stage_that_moves_onto_its_holders_silo_pushes_the_holder_away_so_losing_that_silo_next_costs_no_step()
    {
        await using var collector = await EventCollector.StartAsync(fixture.Client);
        var x = SnapshotRedundancyCluster.Silo(fixture, "Silo_1");
        // Where the holder of a stage on Silo_1 goes is a function of its key: pick a job whose holder lands on a silo
        // the test can lose (not the primary), so the run is the same every time.
        string[] others = [.. fixture.Cluster.Silos.Where(s => s.Name != x.Name).Select(s => s.Name).Order(StringComparer.Ordinal)];
        string jobId = Enumerable.Range(0, 100).Select(i => $"holder-moves-{i}")
            .First(id => others[SnapshotHolderPlacementDirector.HomeIndex(StageKeys.Shard(id, 0), others.Length)] != "Silo_0");
        var y = SnapshotRedundancyCluster.Silo(fixture, others[SnapshotHolderPlacementDirector.HomeIndex(StageKeys.Shard(jobId, 0), others.Length)]);

        var spec = TinyJob.Spec(jobId, stages: 1, steps: 90, checkpointInterval: 90) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [x.Name]);
        await job.Submit(spec);
        var running = await SnapshotRedundancyCluster.StepsPast(job, 0, 3, "the job to pass step 3 on Silo_1");
        Assert.Equal(x.Name, Assert.Single(running.Placement).SiloName);
        var holder = SnapshotRedundancyCluster.Holder(fixture, jobId, 0);
        Assert.Equal(y.Name, fixture.HostOf(holder));

        // Silo_1 dies; the only open nodes are the holder's silo's: the stage restarts next to its holder.
        await SnapshotRedundancyCluster.OpenOnly(fixture, [y.Name]);
        long before = (await SnapshotRedundancyCluster.Reliably(job.GetStatus, "the job's status")).CompletedSteps;
        await fixture.Cluster.KillSiloAsync(x);
        var moved = await SnapshotRedundancyCluster.StepsPast(job, before, 3, "the job to run again on the holder's silo");
        Assert.True(moved.State is JobState.Running or JobState.Checkpointing, $"job is {moved.State}: {moved.Error}");
        Assert.Equal(y.Name, Assert.Single(moved.Placement).SiloName);
        string? holderSilo = fixture.HostOf(holder);
        Assert.True(holderSilo != y.Name, $"the snapshot holder stayed on {holderSilo}, the silo its stage moved to: one failure there loses both copies");

        // Losing that silo now must cost no completed step (only the step in flight).
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Where(s => s.Name != y.Name).Select(s => s.Name)]);
        before = (await SnapshotRedundancyCluster.Reliably(job.GetStatus, "the job's status")).CompletedSteps;
        await fixture.Cluster.KillSiloAsync(y);
        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(4), "the job to recover and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits), (await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history")).Select(BitConverter.DoubleToInt64Bits));

        // The recorded history, not the live stream: the stream's queue may have lived on a silo the test killed.
        var restored = await Eventually.Value(() => SnapshotRedundancyCluster.Recorded(fixture, jobId, ClusterEventKind.JobRestored),
            r => r.Length >= 2, TimeSpan.FromSeconds(30), $"two JobRestored events in the job's history (killed {y.Name} at step {before}); the live stream saw: "
            + string.Join(" | ", collector.Events.Where(e => e.JobId == jobId).Select(e => $"{e.Kind} step {e.Step}: {e.Message}")));
        RecoveryAssert.CostNoCompletedStep(restored, JobHistory.Told(restored));
    }
}
