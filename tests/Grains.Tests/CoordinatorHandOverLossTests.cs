using Orleans.TestingHost;
using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// A coordinator's hand-over is a move, not a failure (<c>TrainingJobGrain.HandOver.cs</c>), so a silo lost in its middle
/// is a single failure and must cost no completed step either. The coordinator's silo shuts down gracefully, and a silo
/// that runs a stage is lost at one of the hand-over's moments: while the old coordinator, asked to hand over, waits for
/// its step boundary behind a step's update in flight to that stage (the update is lost with the silo); while the job's
/// next activation, having claimed its epoch, asks the scheduler for the same nodes (that call held at the scheduler); or
/// while it configures that stage on its node (the call lost with the silo). Whichever way the job goes on — a hand-over
/// placed around the dead node, or a recovery — it must restore the counted step from memory (the stage's holder on
/// another silo), recompute no counted step, and keep the reference losses to the bit.
/// </summary>
public sealed class CoordinatorHandOverLossTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    private const string OldCoordinatorsLastStep = "the old coordinator's last step, an update in flight";
    private const string NewCoordinatorPlacing = "the new coordinator placing";
    private const string NewCoordinatorConfiguring = "the new coordinator configuring a stage";

    [Theory]
    [InlineData(OldCoordinatorsLastStep)]
    [InlineData(NewCoordinatorPlacing)]
    [InlineData(NewCoordinatorConfiguring)]
    public async Task A_stage_silo_lost_at_any_moment_of_a_coordinators_hand_over_costs_no_completed_step(string moment)
    {
        var cluster = fixture.Cluster;
        while (cluster.Silos.Count < 4) await cluster.StartAdditionalSiloAsync(); // an earlier case left one silo fewer
        var spec = TinyJob.Spec($"coordinator-handover-loss-{Array.IndexOf([OldCoordinatorsLastStep, NewCoordinatorPlacing, NewCoordinatorConfiguring], moment)}",
            stages: 2, steps: 250, checkpointInterval: 25);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId); // the history outlives the silos lost
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var leaving = await fixture.MoveToALosableSilo(job);
        // Stages only on the two silos that are neither the primary nor the coordinator's: one of them is lost.
        string[] stageSilos = [.. cluster.Silos.Skip(1).Where(s => s.Name != leaving.Name).Select(s => s.Name)];
        await SnapshotRedundancyCluster.OpenOnly(fixture, stageSilos);
        await job.Submit(spec);
        var before = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 4 || JobRuns.IsFinished(s), TimeSpan.FromMinutes(2), "the job to pass step 4");
        Assert.True(before.State is JobState.Running or JobState.Checkpointing, $"job is {before.State}: {before.Error}");
        Assert.Equal(leaving.Name, fixture.HostOf(job));

        string victim = moment == NewCoordinatorPlacing
            ? await LoseAStageSiloWhileTheNewCoordinatorPlaces(job, spec, leaving)
            : await LoseTheStagesSiloAtItsCall(job, spec, leaving, moment);
        await cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. cluster.Silos.Skip(1).Select(s => s.Name)]);

        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var history = await JobHistory.All(fixture, spec.JobId);
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobCoordinatorMoved or ClusterEventKind.JobRecovering
            or ClusterEventKind.JobRestored or ClusterEventKind.JobResumed));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, $"losing {victim} at {moment}: {story}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }

    /// <summary>The take-over's placement call held at the scheduler; a stage's silo other than the new coordinator's lost.</summary>
    private async Task<string> LoseAStageSiloWhileTheNewCoordinatorPlaces(ITrainingJobGrain job, JobSpec spec, InProcessSiloHandle leaving)
    {
        fixture.Placement.Arm(spec.JobId); // the next activation's placement (the running one places nothing more)
        try
        {
            await fixture.Cluster.StopSiloAsync(leaving); // graceful: the coordinator hands the job over
            await fixture.Placement.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            string? coordinator = fixture.HostOf(job);
            var placement = (await job.GetStatus()).Placement;
            string[] hosts = [.. placement.Select(p => p.SiloName).Distinct()];
            // A stage's silo that does not run the new coordinator, when there is one: the failure this case is about.
            string victim = hosts.FirstOrDefault(h => h != coordinator) ?? hosts[0];
            output.WriteLine($"{leaving.Name} handed the job over at step {(await job.GetStatus()).CompletedSteps}; its next activation on {coordinator} is placing " +
                $"(stages {string.Join(", ", placement.Select(p => $"s{p.Stage} on {p.SiloName}"))}); losing {victim}");
            await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
            return victim;
        }
        finally
        {
            fixture.Placement.Release();
        }
    }

    /// <summary>
    /// The job's next call to s1 of the kind <paramref name="moment"/> names held; s1's silo lost while it is, and the
    /// call failed as lost with it. For the old coordinator's update, the silo's stop has asked for the hand-over by then.
    /// </summary>
    private async Task<string> LoseTheStagesSiloAtItsCall(ITrainingJobGrain job, JobSpec spec, InProcessSiloHandle leaving, string moment)
    {
        var jobId = job.GetGrainId();
        var s1 = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 1)).GetGrainId();
        string method = moment == OldCoordinatorsLastStep ? nameof(IPipelineStageGrain.ApplyUpdate) : nameof(IPipelineStageGrain.Configure);
        string victim = (await job.GetStatus()).Placement.Single(p => p.Replica == 0 && p.Stage == 1).SiloName;
        fixture.Moment.Arm(call => call.SourceId == jobId && call.TargetId == s1 && call.InterfaceMethod.Name == method);
        try
        {
            Task stopping;
            if (moment == OldCoordinatorsLastStep)
            {
                await fixture.Moment.Reached.WaitAsync(TimeSpan.FromMinutes(1)); // a step's update to s1 in flight
                fixture.Outgoing.Arm(call => call.TargetId == jobId && call.InterfaceMethod.Name == nameof(ITrainingJobGrain.HandOverForShutdown));
                stopping = fixture.Cluster.StopSiloAsync(leaving); // graceful: asks the coordinator to hand over at its next boundary
                await fixture.Outgoing.Reached.WaitAsync(TimeSpan.FromMinutes(1));
                fixture.Outgoing.Release();
            }
            else
            {
                stopping = fixture.Cluster.StopSiloAsync(leaving); // graceful: the coordinator hands over; the next one configures
                await fixture.Moment.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            }
            output.WriteLine($"{leaving.Name} stopping; held at {moment} (s1.{method}); losing {victim}, s1's silo, at step {(await job.GetStatus()).CompletedSteps}");
            await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
            fixture.Moment.Fail(new SiloUnavailableException($"injected: s1.{method} was lost with {victim}"));
            await stopping.WaitAsync(TimeSpan.FromMinutes(2));
            return victim;
        }
        finally
        {
            fixture.Moment.Fail(new SiloUnavailableException("the test ended"));
            fixture.Outgoing.Fail(new SiloUnavailableException("the test ended"));
        }
    }
}
