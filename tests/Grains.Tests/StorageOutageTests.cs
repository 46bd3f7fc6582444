using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// Storage outages are not failures: a job trains on from memory while its checkpoint store or its state storage is
/// unreachable, waits visibly once too many steps are not durable, and carries on by itself when storage returns —
/// with the reference trajectory, no recovery, and nothing silently started again from step 0.
/// </summary>
public sealed class StorageOutageTests(StorageOutageClusterFixture fixture) : IClassFixture<StorageOutageClusterFixture>
{
    private static readonly TimeSpan s_finish = TimeSpan.FromMinutes(4);

    [Theory]
    [InlineData(FaultMode.Fail)]
    [InlineData(FaultMode.Hang)]
    public async Task A_checkpoint_store_outage_defers_checkpoints_then_waits_for_storage_and_resumes_by_itself(FaultMode mode)
    {
        await using var collector = await EventCollector.StartAsync(fixture.Client);
        var spec = TinyJob.Spec($"store-outage-{mode}".ToLowerInvariant(), stages: 2, steps: 50, checkpointInterval: 5) with { KeepCheckpoints = 20 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var before = await JobRuns.CommittedWhileTraining(job, 10, TimeSpan.FromMinutes(2));

        StorageFaults.Checkpoints.Outage(spec.JobId, mode, FaultyCheckpointStore.Calls);
        JobStatus waiting;
        try
        {
            waiting = await Eventually.Value(job.GetStatus, s => s.State is JobState.WaitingForStorage or JobState.Failed or JobState.Completed,
                TimeSpan.FromMinutes(2), "the job to wait for storage");
        }
        finally
        {
            StorageFaults.Checkpoints.Heal(spec.JobId);
        }
        Assert.True(waiting.State == JobState.WaitingForStorage, $"job is {waiting.State}: {waiting.Error}");
        Assert.True(waiting.CompletedSteps > before.LastCheckpointStep!.Value + 1, $"no training during the outage (step {waiting.CompletedSteps})");
        Assert.True(waiting.CompletedSteps - waiting.LastCheckpointStep!.Value <= StorageOutageClusterFixture.MaxStepsWithoutDurableCheckpoint + 1,
            $"trained to step {waiting.CompletedSteps} with the last durable checkpoint at {waiting.LastCheckpointStep}");
        Assert.NotNull(waiting.Error);
        Assert.Contains("waiting for storage", waiting.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', waiting.Error);
        Assert.True(waiting.Error.Length < 600, $"error of {waiting.Error.Length} characters: {waiting.Error}");

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, s_finish, "the job to finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await AssertReferenceTrajectory(job, spec);
        Assert.Equal(spec.Steps, (await job.ListCheckpoints())[^1].Step);
        await Eventually.True(() => Task.FromResult(collector.Events.Any(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.StorageReturned)),
            TimeSpan.FromSeconds(30), "the StorageReturned event");
        var mine = collector.Events.Where(e => e.JobId == spec.JobId).ToArray();
        Assert.Contains(mine, e => e.Kind == ClusterEventKind.WaitingForStorage && e.Epoch == 1);
        // An outage is not a failure: no recovery but for a node the scheduler declared lost (a 2-core machine under
        // load can miss heartbeats; that is another story and recovers as such).
        var recoveries = mine.Where(e => e.Kind == ClusterEventKind.JobRecovering).ToArray();
        Assert.True(recoveries.All(e => e.Message.Contains(" lost", StringComparison.Ordinal)) && done.Epoch == 1 + recoveries.Length,
            $"the outage sent the job through a recovery (epoch {done.Epoch}): {string.Join(" | ", recoveries.Select(e => e.Message))}");
    }

    [Fact]
    public async Task Failing_job_state_writes_neither_stop_training_nor_trigger_a_recovery()
    {
        var spec = TinyJob.Spec("state-writes-fail", stages: 2, steps: 30, checkpointInterval: 5);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(2), "step 3");
        StorageFaults.GrainState.Inject(spec.JobId, FaultyGrainStorage.Write, FaultMode.Fail, times: 12);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, s_finish, "the job to finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.True(StorageFaults.GrainState.Hits(spec.JobId, FaultyGrainStorage.Write) >= 1, "the injected write failures were never hit");
        Assert.Equal(1, done.Epoch);
        await AssertReferenceTrajectory(job, spec);
        await AssertStoredStateIs(job, done);
    }

    [Fact]
    public async Task A_state_write_applied_but_timed_out_is_reconciled_and_later_writes_succeed()
    {
        var spec = TinyJob.Spec("state-write-times-out", stages: 2, steps: 20, checkpointInterval: 5);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(2), "step 3");
        StorageFaults.GrainState.Inject(spec.JobId, FaultyGrainStorage.Write, FaultMode.SucceedThenTimeOut, times: 1);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, s_finish, "the job to finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.Equal(1, StorageFaults.GrainState.Hits(spec.JobId, FaultyGrainStorage.Write));
        Assert.Equal(1, done.Epoch);
        await AssertReferenceTrajectory(job, spec);
        await AssertStoredStateIs(job, done);
    }

    /// <summary>
    /// A node lost while the job waits for storage ends the wait like a failed step: the job recovers (from memory,
    /// which needs no storage) rather than wait, with a stage on a lost node, until storage returns. The scheduler
    /// says so once; before, the notice was dropped unless the job was Running.
    /// </summary>
    [Fact]
    public async Task A_node_lost_while_the_job_waits_for_storage_ends_the_wait_with_a_recovery()
    {
        var spec = TinyJob.Spec("outage-node-lost", stages: 2, steps: 5_000, checkpointInterval: 5) with { KeepCheckpoints = 20 };
        await JobRuns.WhileRunning(fixture.Client, spec, async job =>
        {
            await JobRuns.CommittedWhileTraining(job, 5, TimeSpan.FromMinutes(2));
            StorageFaults.Checkpoints.Outage(spec.JobId, FaultMode.Fail, FaultyCheckpointStore.Calls);
            try
            {
                var waiting = await Eventually.Value(job.GetStatus, s => s.State is JobState.WaitingForStorage or JobState.Failed or JobState.Completed,
                    TimeSpan.FromMinutes(2), "the job to wait for storage");
                Assert.True(waiting.State == JobState.WaitingForStorage, $"job is {waiting.State}: {waiting.Error}");
                await job.NodesLost([waiting.Placement[0].NodeId], "test: a node was declared lost during the outage");
                var recovered = await Eventually.Value(job.GetStatus, s => s.Epoch > waiting.Epoch || s.State is JobState.Failed or JobState.Completed,
                    TimeSpan.FromMinutes(2), "the job to recover while storage is still out");
                Assert.True(recovered.Epoch > waiting.Epoch, $"job is {recovered.State} in epoch {recovered.Epoch}: {recovered.Error}");
            }
            finally
            {
                StorageFaults.Checkpoints.Heal(spec.JobId);
            }
        });
    }

    [Fact]
    public async Task A_job_whose_checkpoints_vanished_waits_for_storage_instead_of_restarting_from_step_zero()
    {
        // Durable checkpoints only: nothing in memory to recover from.
        var spec = TinyJob.Spec("checkpoints-vanish", stages: 2, steps: 25, checkpointInterval: 5) with { SnapshotInterval = 0 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await JobRuns.CommittedWhileTraining(job, 10, TimeSpan.FromMinutes(2));

        // The volume is "unmounted": the store lists nothing (and takes nothing new); then a node loss forces a
        // restore from durable state.
        StorageFaults.Checkpoints.Outage(spec.JobId, FaultMode.Fail, nameof(FaultyCheckpointStore.WriteShardAsync), nameof(FaultyCheckpointStore.CommitManifestAsync));
        string folder = Path.Combine(fixture.DataRoot, "checkpoints", spec.JobId);
        await Eventually.True(() =>
        {
            Directory.Delete(folder, recursive: true); // retried: a shard write may still be finishing
            return Task.FromResult(!Directory.Exists(folder));
        }, TimeSpan.FromSeconds(30), $"{folder} to be deleted");
        await job.NodesLost([running.Placement[0].NodeId], "test: a node was declared lost");

        var waiting = await Eventually.Value(job.GetStatus, s => s.State is JobState.WaitingForStorage or JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(2), "the job to wait for its checkpoints");
        StorageFaults.Checkpoints.Heal(spec.JobId);
        Assert.True(waiting.State == JobState.WaitingForStorage, $"job is {waiting.State} at step {waiting.CompletedSteps}: {waiting.Error}");
        Assert.NotNull(waiting.Error);
        Assert.Contains(Path.Combine(fixture.DataRoot, "checkpoints"), waiting.Error, StringComparison.Ordinal);
        Assert.Contains($"step {waiting.LastCheckpointStep} was committed", waiting.Error, StringComparison.Ordinal);
        Assert.True(waiting.LastCheckpointStep >= 10, $"last checkpoint {waiting.LastCheckpointStep}");

        // It waits (nothing restarts from zero by itself) until an operator asks for the initial weights.
        var restarted = await job.RestoreCheckpoint(0);
        Assert.Equal(0, restarted.CompletedSteps);
        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, s_finish, "the job to finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await AssertReferenceTrajectory(job, spec);
    }

    private static async Task AssertReferenceTrajectory(ITrainingJobGrain job, Interfaces.Jobs.JobSpec spec)
    {
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>What a fresh activation reads back is the finished job (the writer's ETag was never left stale).</summary>
    private async Task AssertStoredStateIs(ITrainingJobGrain job, JobStatus done)
    {
        await fixture.Cluster.DeactivateAsync(job);
        var reread = await job.GetStatus();
        Assert.Equal(JobState.Completed, reread.State);
        Assert.Equal(done.CompletedSteps, reread.CompletedSteps);
        Assert.Equal(done.LastCheckpointStep, reread.LastCheckpointStep);
    }
}
