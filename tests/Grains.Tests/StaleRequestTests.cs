using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>Requests made moot by a pause are dropped, not served after the resume.</summary>
public sealed class StaleRequestTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_preemption_that_arrives_just_before_a_pause_does_not_survive_the_resume()
    {
        var spec = TinyJob.Spec("preempt-then-pause", stages: 2, steps: 30, checkpointInterval: 0);
        await using var events = await EventCollector.StartAsync(fixture.Client);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 4 || IsFinished(s), Deadline, "the job to pass step 4");

        // Both arrive within one step: the pause is served first (its priority) and frees the nodes, which is what the
        // preemption asked for. (Should the preemption win the race to a boundary instead, it is served before the pause.)
        var preempt = job.Preempt("preempted by a test");
        var paused = await job.Pause().WaitAsync(Deadline);
        await preempt;
        Assert.Equal(JobState.Paused, paused.State);
        Assert.Empty(await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetPlacement(spec.JobId));

        await job.Resume();
        var resumed = await Eventually.Value(job.GetStatus, s => s.State == JobState.Running || IsFinished(s), Deadline, "the job to run again");
        var done = await Finished(job);
        Assert.Equal(JobState.Completed, done.State);
        await AssertReferenceTrajectory(job, spec);
        // Old code served the stale preemption at the first boundary after the resume: a checkpoint, nodes freed again.
        Assert.DoesNotContain(events.Events, e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.JobPreempted && e.Epoch >= resumed.Epoch);
    }
}
