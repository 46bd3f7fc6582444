using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13, "a failed preemption checkpoint does not leave the scheduler waiting for ever": the low-priority job is
/// asked to checkpoint and free its nodes, and its checkpoint cannot be committed (the store refuses every manifest
/// for a while). The job keeps its nodes and trains on (nothing is lost without a checkpoint) and tells the scheduler at
/// once, which stops counting on the request and tells the waiting job why; the scheduler neither double-books the
/// nodes nor stops deciding — past the release timeout it forgets the request and asks again —
/// and once the store is back the job commits, frees its nodes, the high-priority job is placed, and both jobs end
/// with their reference trajectories.
/// </summary>
public sealed class FailedPreemptionTests(PreemptionFaultClusterFixture fixture) : IClassFixture<PreemptionFaultClusterFixture>
{
    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    [Fact]
    public async Task A_preemption_whose_checkpoint_fails_is_retried_and_resolved_without_double_booking_or_lost_work()
    {
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var low = TinyJob.Spec("failed-preempt-low", stages: 2, steps: 150, checkpointInterval: 0) with { Priority = 0, Team = "batch" };
        var high = TinyJob.Spec("failed-preempt-high", stages: 2, steps: 8, checkpointInterval: 0) with { Priority = 10, Team = "prod" };
        var lowJob = fixture.Client.GetGrain<ITrainingJobGrain>(low.JobId);
        var highJob = fixture.Client.GetGrain<ITrainingJobGrain>(high.JobId);
        const string commit = nameof(FaultyCheckpointStore.CommitManifestAsync);
        // Slow devices (a sleep per micro-batch compute): the low job cannot run out of steps before the store heals.
        var slowdown = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<ComputeSlowdown>();
        var nodes = (await Scheduler.GetNodes()).Select(n => n.Capabilities.NodeId).ToArray();
        foreach (string node in nodes) slowdown.Set(node, TimeSpan.FromMilliseconds(30));
        try
        {
            await lowJob.Submit(low);
            var running = await Eventually.Value(lowJob.GetStatus, s => s.CompletedSteps >= 3 || IsFinished(s), Deadline, "the low-priority job to pass step 3");
            Assert.Equal(JobState.Running, running.State);
            // Checkpoint interval 0: the first checkpoint the low job takes is the preemption's, and it cannot commit.
            StorageFaults.Checkpoints.Outage(low.JobId, FaultMode.Fail, commit);
            await highJob.Submit(high);

            // The low job was asked, tried, failed and tried again; the scheduler's wait outlived its release timeout.
            await Eventually.True(() => Task.FromResult(StorageFaults.Checkpoints.Hits(low.JobId, commit) >= 2),
                Deadline, "the low-priority job's preemption checkpoint to fail twice");
            await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.JobId == high.JobId && e.Kind == ClusterEventKind.WaitingForCapacity)),
                Deadline, "the high-priority job to wait");
            // The low job told the scheduler its checkpoint failed (no release timeout had to pass for it), and the
            // scheduler, with no other job to ask, tells the high-priority job why it waits.
            // A failure of its own kind: consumers switching on JobPreempted (nodes freed) must not see it as one.
            var told = await Eventually.Value(() => Task.FromResult(events.Events.FirstOrDefault(e => e.JobId == low.JobId && e.Kind == ClusterEventKind.PreemptionFailed)),
                e => e is not null, Deadline, "the scheduler to hear that the preemption checkpoint failed (a PreemptionFailed event)");
            Assert.Contains("could not checkpoint to free its nodes", told!.Message, StringComparison.Ordinal);
            Assert.Contains(high.JobId, told.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(events.Events, e => e.Kind == ClusterEventKind.JobPreempted && e.Message.Contains("could not checkpoint", StringComparison.Ordinal));
            await Eventually.True(async () => (await Scheduler.GetQueue()).Any(q => q.Ticket.JobId == high.JobId
                    && q.Reason.Contains($"Job {low.JobId} was asked to checkpoint and free its nodes for it, but its preemption checkpoint failed", StringComparison.Ordinal)),
                Deadline, "the high-priority job's wait to say that the preemption checkpoint failed");
            var overdue = DateTime.UtcNow + 2 * PreemptionFaultClusterFixture.ReleaseTimeout;
            await Eventually.True(() => Task.FromResult(DateTime.UtcNow > overdue), 4 * PreemptionFaultClusterFixture.ReleaseTimeout, "the release timeout to pass");
            // Still no double booking: the low job holds its nodes, the high job none, and the scheduler answers.
            var lowNow = await lowJob.GetStatus();
            Assert.False(IsFinished(lowNow), $"the low-priority job ended {lowNow.State}: {lowNow.Error}");
            Assert.Empty(await Scheduler.GetPlacement(high.JobId));
            Assert.NotEqual(JobState.Running, (await highJob.GetStatus()).State);
            Assert.Contains(await Scheduler.GetQueue(), q => q.Ticket.JobId == high.JobId);
        }
        finally
        {
            StorageFaults.Checkpoints.Heal(low.JobId);
        }
        try
        {
            await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.JobId == low.JobId && e.Kind == ClusterEventKind.JobPreempted && e.Message.Contains("committed, nodes freed", StringComparison.Ordinal))),
                Deadline, "the low-priority job to commit its preemption checkpoint once the store is back");
        }
        finally
        {
            foreach (string node in nodes) slowdown.Clear(node);
        }

        var highDone = await Finished(highJob);
        Assert.True(highDone.State == JobState.Completed, $"the high-priority job ended {highDone.State}: {highDone.Error}");
        var lowDone = await Finished(lowJob);
        Assert.True(lowDone.State == JobState.Completed, $"the low-priority job ended {lowDone.State}: {lowDone.Error}");
        var preempted = events.Events.LastOrDefault(e => e.JobId == low.JobId && e.Kind == ClusterEventKind.JobPreempted && e.Message.Contains("committed, nodes freed", StringComparison.Ordinal));
        Assert.NotNull(preempted);
        Assert.Contains(high.JobId, preempted.Message, StringComparison.Ordinal);
        await AssertReferenceTrajectory(lowJob, low);
        await AssertReferenceTrajectory(highJob, high);
    }
}
