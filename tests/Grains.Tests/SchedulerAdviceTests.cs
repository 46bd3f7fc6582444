using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A question a job asks the scheduler only for advice — here a faster placement, asked after every checkpoint by
/// default (<c>ScaleUp</c> "auto") — that cannot be answered is advice not had: the job goes on and asks again at its
/// next checkpoint (<c>JobSchedulerCalls</c>). Found by <c>RollingRestartProcessTests</c> on CI (its default seed): the
/// silo that ran both stages and the scheduler left right at a checkpoint; the stopping silo rejected the job's question,
/// and the job recovered although nothing had failed. An in-process silo's stop did not show that window in three
/// tries, so the answers are failed on purpose (<see cref="DroppedCalls"/>).
/// </summary>
public sealed class SchedulerAdviceTests(FilteredClusterFixture<DroppedCalls> fixture) : IClassFixture<FilteredClusterFixture<DroppedCalls>>
{
    /// <summary>More rejections than <see cref="StoppingSiloRetry"/> sends a call again: one question fails for good, the next is answered.</summary>
    [Fact]
    public Task A_job_whose_questions_a_stopping_silo_keeps_rejecting_goes_on_without_a_recovery() =>
        GoesOnWhileTheQuestionFails("advice-rejected", StoppingSiloRetry.Tries + 2, _ => StoppingSiloRejection.Create());

    [Fact]
    public Task A_job_whose_questions_fail_goes_on_without_a_recovery() =>
        GoesOnWhileTheQuestionFails("advice-failed", 4, what => new IOException(what));

    private async Task GoesOnWhileTheQuestionFails(string jobId, int failures, Func<string, Exception> fault)
    {
        var spec = TinyJob.Spec(jobId, stages: 2, steps: 100_000, checkpointInterval: 1); // a question after every step
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        try
        {
            var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || JobRuns.IsFinished(s), JobRuns.Deadline, "3 steps");
            Assert.False(JobRuns.IsFinished(running), $"job is {running.State}: {running.Error}");
            fixture.Filter.Arm<ISchedulerGrain>(nameof(ISchedulerGrain.ProposeFasterPlacement), failures, fault);
            await Eventually.True(() => Task.FromResult(fixture.Filter.Dropped >= failures), JobRuns.Deadline, $"{failures} questions for a faster placement to fail");
            var after = await SnapshotRedundancyCluster.StepsPast(job, running.CompletedSteps, failures + 5, "the job to go on");
            Assert.False(JobRuns.IsFinished(after), $"job is {after.State}: {after.Error}");
        }
        finally
        {
            fixture.Filter.Arm<ISchedulerGrain>(nameof(ISchedulerGrain.ProposeFasterPlacement), 0);
            await job.Cancel();
        }
        var history = await JobHistory.All(fixture, spec.JobId);
        Assert.True(!history.Any(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored),
            $"a question for advice that failed was recovered from as a failure of the job: {JobHistory.Told(history)}");
    }
}
