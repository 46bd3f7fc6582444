using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Compute;
using Cluster.Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>
    /// A straggler's report is advice too, but the detector reports a node once per placement: a report that fails must
    /// be made again while the node still lags (<c>StragglerDetector.Unreported</c>), or the stage stays on the slow
    /// node for the rest of the placement. The first two reports fail; the stage still moves off.
    /// </summary>
    [Fact]
    public async Task A_straggler_whose_first_reports_fail_is_reported_again_and_its_stage_moves()
    {
        // 150 ms stands out against a loaded machine's device times (see OperatorActionsTests' straggler case).
        var spec = TinyJob.Spec("advice-straggler", stages: 2, steps: 400, checkpointInterval: 0);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 2 || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to start");
        var slow = running.Placement.Single(p => p.Stage == 1);
        var slowdown = fixture.Cluster.Silos.Single(s => s.Name == slow.SiloName).ServiceProvider.GetRequiredService<ComputeSlowdown>();
        string silo = slow.NodeId[..slow.NodeId.LastIndexOf('/')];
        string[] siblings = [.. (await scheduler.GetNodes()).Select(n => n.Capabilities.NodeId).Where(n => n != slow.NodeId && n.StartsWith(silo + "/", StringComparison.Ordinal))];
        foreach (string sibling in siblings) await scheduler.Cordon(sibling); // the stage moves to another silo's device
        fixture.Filter.Arm<ISchedulerGrain>(nameof(ISchedulerGrain.ReportStraggler), 2, what => new IOException(what));
        slowdown.Set(slow.NodeId, TimeSpan.FromMilliseconds(150));
        try
        {
            var moved = await Eventually.Value(job.GetStatus, s => s.Placement.All(p => p.NodeId != slow.NodeId) || JobRuns.IsFinished(s), JobRuns.Deadline,
                $"the straggler {slow.NodeId} to lose its stage although its first reports failed");
            Assert.False(JobRuns.IsFinished(moved), $"job is {moved.State} at step {moved.CompletedSteps}, its stage never moved off {slow.NodeId}: {moved.Error}");
            Assert.Equal(2, fixture.Filter.Dropped);
            Assert.NotNull((await scheduler.GetNodes()).Single(n => n.Capabilities.NodeId == slow.NodeId).Straggler);
        }
        finally
        {
            fixture.Filter.Arm<ISchedulerGrain>(nameof(ISchedulerGrain.ReportStraggler), 0);
            slowdown.Clear(slow.NodeId);
            await job.Cancel();
            await scheduler.Uncordon(slow.NodeId);
            foreach (string sibling in siblings) await scheduler.Uncordon(sibling);
        }
        var history = await JobHistory.All(fixture, spec.JobId);
        Assert.True(!history.Any(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored),
            $"a straggler's failed report was recovered from as a failure of the job: {JobHistory.Told(history)}");
    }

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
