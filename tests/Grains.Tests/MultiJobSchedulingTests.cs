using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// Several jobs on a fleet too small for all of them (one silo, two nodes; a node runs one job at a time): priorities
/// with preemption that loses no work, gang placement, queue order and team quotas.
/// </summary>
public sealed class MultiJobSchedulingTests(OneSiloClusterFixture fixture) : IClassFixture<OneSiloClusterFixture>
{
    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    [Fact]
    public async Task A_higher_priority_job_preempts_a_running_one_which_checkpoints_and_resumes_with_nothing_lost()
    {
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var low = TinyJob.Spec("preempt-low", stages: 2, steps: 40, checkpointInterval: 0) with { Priority = 0, Team = "batch" };
        var high = TinyJob.Spec("preempt-high", stages: 2, steps: 10, checkpointInterval: 0) with { Priority = 10, Team = "prod" };
        var lowJob = fixture.Client.GetGrain<ITrainingJobGrain>(low.JobId);
        var highJob = fixture.Client.GetGrain<ITrainingJobGrain>(high.JobId);
        await lowJob.Submit(low);
        await Eventually.Value(lowJob.GetStatus, s => s.CompletedSteps >= 3 || IsFinished(s), Deadline, "the low-priority job to pass step 3");

        await highJob.Submit(high);
        var highDone = await Finished(highJob);
        Assert.Equal(JobState.Completed, highDone.State);
        var lowDone = await Finished(lowJob);
        Assert.Equal(JobState.Completed, lowDone.State);

        await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.JobId == low.JobId && e.Kind == ClusterEventKind.JobPreempted && e.Message.Contains("committed", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30), "the low-priority job's preemption event");
        var preempted = events.Events.Last(e => e.JobId == low.JobId && e.Kind == ClusterEventKind.JobPreempted);
        Assert.Contains(high.JobId, preempted.Message, StringComparison.Ordinal);
        Assert.Contains(await lowJob.ListCheckpoints(), m => m.Step == preempted.Step || m.Step == low.Steps);
        var resumed = events.Events.FirstOrDefault(e => e.JobId == low.JobId && e.Kind == ClusterEventKind.JobUnpaused);
        Assert.NotNull(resumed);
        Assert.Equal(preempted.Step, resumed.Step); // resumed from the preemption checkpoint: no step lost

        await AssertReferenceTrajectory(lowJob, low);
        await AssertReferenceTrajectory(highJob, high);
    }

    [Fact]
    public async Task A_job_that_does_not_fit_waits_whole_and_is_never_half_placed()
    {
        var first = TinyJob.Spec("gang-first", stages: 2, steps: 15, checkpointInterval: 0);
        var second = TinyJob.Spec("gang-second", stages: 2, steps: 5, checkpointInterval: 0);
        var other = TinyJob.Spec("gang-other-team", stages: 2, steps: 5, checkpointInterval: 0) with { Team = "other" };
        var firstJob = fixture.Client.GetGrain<ITrainingJobGrain>(first.JobId);
        var secondJob = fixture.Client.GetGrain<ITrainingJobGrain>(second.JobId);
        var otherJob = fixture.Client.GetGrain<ITrainingJobGrain>(other.JobId);
        await firstJob.Submit(first);
        await Eventually.Value(firstJob.GetStatus, s => s.State == JobState.Running || IsFinished(s), Deadline, "the first job to run");
        await secondJob.Submit(second);
        await otherJob.Submit(other);

        var waiting = await Eventually.Value(secondJob.GetStatus, s => s.State == JobState.WaitingForCapacity || IsFinished(s), Deadline, "the second job to wait");
        if (waiting.State == JobState.WaitingForCapacity)
        {
            Assert.Empty(await Scheduler.GetPlacement(second.JobId)); // no stage placed while it waits
            // Equal priority: the team holding no nodes ("other") is served before the first job's team again.
            var queue = await Eventually.Value(Scheduler.GetQueue, q => q.Count == 2, Deadline, "both waiting jobs in the queue");
            Assert.Equal([other.JobId, second.JobId], queue.Select(q => q.Ticket.JobId));
            Assert.Equal([1, 2], queue.Select(q => q.Position));
        }
        foreach (var job in new[] { firstJob, secondJob, otherJob })
            Assert.Equal(JobState.Completed, (await Finished(job)).State);
        Assert.Empty(await Scheduler.GetQueue());
    }

    [Fact]
    public async Task A_job_over_its_teams_quota_waits_with_a_clear_reason_until_the_quota_is_raised()
    {
        const string team = "quota-team";
        var quota = await Scheduler.SetQuota(team, 1);
        Assert.Equal(1, quota.MaxNodes);
        var spec = TinyJob.Spec("quota", stages: 2, steps: 5, checkpointInterval: 0) with { Team = team };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        try
        {
            await job.Submit(spec);
            // A scheduler that has just started (this call may activate it) first says it waits for nodes to register.
            var waiting = await Eventually.Value(job.GetStatus, s => (s.State == JobState.WaitingForCapacity && s.Error?.Contains("quota", StringComparison.Ordinal) == true) || IsFinished(s),
                Deadline, "the job to wait on its quota");
            Assert.Equal(JobState.WaitingForCapacity, waiting.State);
            Assert.Contains($"Team '{team}' quota is 1 node(s) but job {spec.JobId} needs 2", waiting.Error, StringComparison.Ordinal);
            Assert.Contains("quota set", waiting.Error, StringComparison.Ordinal);
            Assert.Contains(await Scheduler.GetQuotas(), q => q.Team == team && q.MaxNodes == 1);

            await Scheduler.SetQuota(team, 2);
            Assert.Equal(JobState.Completed, (await Finished(job)).State);
        }
        finally
        {
            await Scheduler.SetQuota(team, null);
        }
        Assert.DoesNotContain(await Scheduler.GetQuotas(), q => q.Team == team && q.MaxNodes is not null);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Scheduler.SetQuota(team, -1));
    }

    /// <summary>
    /// A rewind asked of a job that waits for capacity is answered at once (its caller would otherwise wait for nodes
    /// past its call's time-out) and applied once the job has nodes again.
    /// </summary>
    [Fact]
    public async Task A_rewind_of_a_job_waiting_for_capacity_is_answered_at_once_and_applied_once_it_is_placed()
    {
        const string team = "rewind-waiting-team";
        var spec = TinyJob.Spec("rewind-waiting", stages: 2, steps: 5_000, checkpointInterval: 3) with { Team = team, KeepCheckpoints = 50 };
        try
        {
            await WhileRunning(fixture.Client, spec, async job =>
            {
                await Eventually.Value(job.GetStatus, s => s.LastCheckpointStep >= 3 || IsFinished(s), Deadline, "the checkpoint at step 3");
                await job.Pause().WaitAsync(Deadline);
                await Scheduler.SetQuota(team, 1); // the job needs 2 nodes: resumed, it waits
                await job.Resume();
                await Eventually.Value(job.GetStatus, s => (s.State == JobState.WaitingForCapacity && s.Error?.Contains("quota", StringComparison.Ordinal) == true) || IsFinished(s),
                    Deadline, "the job to wait on its quota");

                var answered = await job.RestoreCheckpoint(3).WaitAsync(TimeSpan.FromSeconds(20));
                Assert.Equal(JobState.WaitingForCapacity, answered.State);

                await Scheduler.SetQuota(team, null);
                var log = fixture.Client.GetGrain<IJobEventLogGrain>(spec.JobId);
                var rewound = await Eventually.Value(async () => (await log.GetPage(new JobEventQuery(1000))).Events.Select(r => r.Event).FirstOrDefault(e => e.Kind == ClusterEventKind.JobRewound),
                    found => found is not null, Deadline, "a JobRewound event");
                Assert.Contains("step 3", rewound!.Message, StringComparison.Ordinal);
            });
        }
        finally
        {
            await Scheduler.SetQuota(team, null);
        }
    }
}
