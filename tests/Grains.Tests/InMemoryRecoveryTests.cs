using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>Recovery from in-memory snapshots (a cluster of its own: losing silos changes the cluster for good).</summary>
public sealed class InMemoryRecoveryTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    [Fact]
    public async Task With_in_memory_snapshots_a_silo_loss_costs_no_completed_step()
    {
        // Durable checkpoints far apart (20), snapshots every step: the restore must come from memory, not step 20.
        var spec = TinyJob.Spec("memory-restore", stages: 4, steps: 40, checkpointInterval: 20) with { SnapshotInterval = 1 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 25 || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(2), "the job to pass step 25");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"job is {running.State}");

        var cluster = fixture.Cluster;
        var victim = fixture.SiloToLose(job, running);
        Assert.True(victim is not null, "no silo to lose: every stage silo also hosts the primary, the job or the scheduler");
        await cluster.KillSiloAsync(victim!);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(4), "the job to recover and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));

        // The recorded history, not the live stream: the stream's queue may have lived on the silo the test killed.
        var mine = await JobHistory.When(fixture, spec.JobId, h => h.Any(e => e.Kind == ClusterEventKind.JobRestored), "the JobRestored event");
        var restored = mine.First(e => e.Kind == ClusterEventKind.JobRestored);
        RecoveryAssert.CostNoCompletedStep(mine, JobHistory.Told(mine));
        Assert.True(restored.Step > 20, $"restored at step {restored.Step}: not from memory");
    }

}
