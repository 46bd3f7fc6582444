using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>
/// A coordinator's silo may shut down while its job is being placed: in a rolling update the silo's own drain moves
/// a stage off it, and the coordinator is asked to hand over while that move is placed (seen in
/// <c>RollingRestartProcessTests</c>, 2026-12-08: the coordinator refused because its job was placing, and the job's next
/// activation recovered it although nothing had failed). A job being placed steps soon, so it hands over at the boundary
/// after its placement; one whose boundary leads into a wait that ends at no boundary soon (a pause) declines at once,
/// and does not hold its silo's stop up to <c>CoordinatorHandOverTimeout</c>.
/// </summary>
public sealed class CoordinatorHandOverPlacingTests(CoordinatorStopClusterFixture fixture) : IClassFixture<CoordinatorStopClusterFixture>
{
    [Fact]
    public async Task A_coordinator_whose_silo_shuts_down_while_its_job_places_a_move_hands_over_after_it_without_a_recovery()
    {
        var (spec, job, leaving, before) = await LeavingCoordinator.Running(fixture, "coordinator-handover-placing");
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        string drained = before.Placement.Single(p => p.Stage == 1).NodeId;
        fixture.Placement.Arm(spec.JobId);
        Task stopping = Task.CompletedTask;
        try
        {
            await scheduler.Drain(drained);
            // The job asks at its next boundary where the stage can go (still running), then places the move there.
            await fixture.Placement.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            fixture.Placement.Release();
            fixture.Placement.Arm(spec.JobId); // before the released question is even answered: the move's placement is held
            await fixture.Placement.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            var placing = await job.GetStatus();
            Assert.True(placing.State == JobState.Placing, $"job is {placing.State}, not placing its move: {placing.Error}");

            stopping = fixture.Cluster.StopSiloAsync(leaving); // graceful: asks the coordinator to hand over
            await Eventually.True(() => Task.FromResult(HandOverAsked(leaving, spec.JobId) || stopping.IsCompleted), TimeSpan.FromMinutes(1),
                "the coordinator to be asked to hand over while its job places");
        }
        finally
        {
            fixture.Placement.Release();
        }
        await stopping.WaitAsync(TimeSpan.FromMinutes(2));
        await scheduler.Uncordon(drained);

        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var history = await JobHistory.All(fixture, spec.JobId);
        Assert.True(!history.Any(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored or ClusterEventKind.JobResumed),
            $"the hand-over during a placement was recovered from as a failure: {JobHistory.Told(history)}");
        var moved = history.Where(e => e.Kind == ClusterEventKind.JobCoordinatorMoved).ToArray();
        Assert.True(moved.Length == 1, $"expected one JobCoordinatorMoved: {JobHistory.Told(history)}");
        Assert.Equal(0, moved[0].StepsLost);
        Assert.True(history.Any(e => e.Kind == ClusterEventKind.StagesMoved && e.Epoch < moved[0].Epoch && !e.Message.StartsWith("stages not moved", StringComparison.Ordinal)),
            $"the move was not made before the hand-over: {JobHistory.Told(history)}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }

    [Fact]
    public async Task A_coordinator_asked_to_hand_over_as_its_job_pauses_declines_at_once_and_the_job_resumes_elsewhere()
    {
        var (spec, job, leaving, _) = await LeavingCoordinator.Running(fixture, "coordinator-handover-pausing");
        var jobId = job.GetGrainId();
        var s1 = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 1)).GetGrainId();
        fixture.Moment.Arm(call => call.SourceId == jobId && call.TargetId == s1 && call.InterfaceMethod.Name == nameof(IPipelineStageGrain.ApplyUpdate));
        Task<JobStatus> pause;
        Task stopping;
        try
        {
            await fixture.Moment.Reached.WaitAsync(TimeSpan.FromMinutes(1)); // a step's update held: the boundary waits
            pause = job.Pause(); // served at that boundary, before the hand-over
            stopping = fixture.Cluster.StopSiloAsync(leaving);
            await Eventually.True(() => Task.FromResult(HandOverAsked(leaving, spec.JobId) || stopping.IsCompleted), TimeSpan.FromMinutes(1),
                "the coordinator to be asked to hand over while its job is about to pause");
        }
        finally
        {
            fixture.Moment.Release();
        }
        await stopping.WaitAsync(TimeSpan.FromMinutes(2));
        // Declined when the loop entered Paused, not given up on at the limit (20 s by default) with the silo's stop held.
        Assert.True(fixture.Logs.Of(leaving, "LogNotHandedOver").Count == 0, $"the hand-over was waited for to its limit:{Environment.NewLine}{fixture.Logs.Dump(leaving)}");
        await pause.WaitAsync(TimeSpan.FromMinutes(1)).ContinueWith(_ => { }, TaskScheduler.Default); // paused, or "ask again" from the leaving activation

        var paused = await Eventually.Value(job.GetStatus, s => s.State == JobState.Paused || JobRuns.IsFinished(s), TimeSpan.FromMinutes(1), "the job to be paused");
        Assert.True(paused.State == JobState.Paused, $"job is {paused.State}: {paused.Error}");
        await job.Resume();
        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var history = await JobHistory.All(fixture, spec.JobId);
        Assert.True(!history.Any(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored),
            $"the paused job was recovered from as a failure: {JobHistory.Told(history)}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }

    private bool HandOverAsked(InProcessSiloHandle silo, string jobId) =>
        fixture.Logs.Of(silo, "LogHandOverAsked").Any(l => l.Message.Contains($"Job {jobId}", StringComparison.Ordinal));
}
