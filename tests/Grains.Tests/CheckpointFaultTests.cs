using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

public sealed class CheckpointFaultTests(FaultInjectionClusterFixture fixture) : IClassFixture<FaultInjectionClusterFixture>
{
    [Fact]
    public async Task A_corrupt_shard_rules_its_checkpoint_out_and_the_previous_one_is_used()
    {
        // Durable checkpoints only: in-memory snapshots would (rightly) be preferred over them.
        var spec = TinyJob.Spec("corrupt-fallback", stages: 4, steps: 40, checkpointInterval: 5) with { KeepCheckpoints = 20, SnapshotInterval = 0 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        // The job's and the cluster's histories stay on the primary: the silo lost below must not take them with it.
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        await JobHistory.KeepOnPrimary(fixture, EventLogKeys.Cluster);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.LastCheckpointStep >= 10 || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(2), "the checkpoint at step 10 to be committed");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"job is {running.State}");

        // Every checkpoint from step 10 on now reads back corrupt; then a silo hosting a stage is lost.
        FaultyCheckpointStore.CorruptReadsFrom(spec.JobId, 10);
        var victim = await KillAStageSilo(job, running);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(4), "the job to recover and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));

        // The recorded histories, not the live stream: the stream's queue may have lived on the silo the test killed.
        var mine = await JobHistory.When(fixture, spec.JobId, h => h.Any(e => e.Kind == ClusterEventKind.JobResumed), "the JobResumed event");
        Assert.Contains(mine, e => e.Kind == ClusterEventKind.CheckpointRejected && e.Step >= 10 && e.Message.Contains(".safetensors", StringComparison.Ordinal));
        Assert.Contains(mine, e => e.Kind == ClusterEventKind.JobRestored && e.Message.Contains("step 5", StringComparison.Ordinal));
        // The scheduler's NodeLost event goes to the cluster's history, not the job's; it may be recorded after the job's events.
        await JobHistory.When(fixture, EventLogKeys.Cluster, h => h.Any(e => e.Kind == ClusterEventKind.NodeLost && e.NodeId?.StartsWith(victim.Name + "/", StringComparison.Ordinal) == true),
            $"a NodeLost event of a node of {victim.Name}");
    }

    [Fact]
    public async Task A_checkpoint_whose_writer_dies_is_never_committed_and_training_goes_on()
    {
        var spec = TinyJob.Spec("writer-dies", stages: 2, steps: 20, checkpointInterval: 5) with { KeepCheckpoints = 20, SnapshotInterval = 0 };
        FaultyCheckpointStore.FailNextWriteOf(spec.JobId, 10);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(3), "the job to finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.False(FaultyCheckpointStore.PendingWriteFailure(spec.JobId, 10), "the injected write failure was never hit");
        // A failed commit is a storage problem, not a failure: no recovery, the checkpoint is retaken after a back-off.
        Assert.True(done.Epoch == 1, $"a failed checkpoint commit sent the job through a recovery (epoch {done.Epoch})");
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));
        var steps = (await job.ListCheckpoints()).Select(m => m.Step).ToArray();
        Assert.DoesNotContain(10L, steps);
        Assert.Contains(5L, steps);
        Assert.Contains(20L, steps);
        Assert.Contains(steps, s => s is > 10 and <= 15); // the retake (or the next interval's checkpoint)
        // The abandoned step-10 shard set was cleaned up by the activation that wrote it.
        Assert.False(Directory.Exists(Path.Combine(fixture.DataRoot, "checkpoints", spec.JobId, "step-00000010")), "the abandoned shard set of step 10 is still there");
    }

    private async Task<InProcessSiloHandle> KillAStageSilo(ITrainingJobGrain job, JobStatus running)
    {
        var cluster = fixture.Cluster;
        var victim = fixture.SiloToLose(job, running) ?? throw new InvalidOperationException("No silo to lose: every stage silo also hosts the primary, the job grain or the scheduler.");
        await cluster.KillSiloAsync(victim);
        return victim;
    }
}
