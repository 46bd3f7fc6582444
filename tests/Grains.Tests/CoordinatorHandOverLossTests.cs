using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A coordinator's hand-over is a move, not a failure (<c>TrainingJobGrain.HandOver.cs</c>), so a silo lost in its middle
/// is a single failure and must cost no completed step either. The coordinator's silo shuts down gracefully; the job's
/// next activation has claimed its epoch and asked the scheduler for the same nodes — that call is held at the scheduler —
/// when a silo that runs a stage is lost. The take-over then places onto the dead node or around it; either way the job
/// must restore the hand-over's step from memory (the stage's holder on another silo), recompute no counted step, and
/// keep the reference losses to the bit.
/// </summary>
public sealed class CoordinatorHandOverLossTests(CoordinatorStopClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CoordinatorStopClusterFixture>
{
    [Fact]
    public async Task A_stage_silo_lost_while_a_new_coordinator_takes_the_job_over_costs_no_completed_step()
    {
        var cluster = fixture.Cluster;
        var spec = TinyJob.Spec("coordinator-handover-loss", stages: 2, steps: 250, checkpointInterval: 25);
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

        fixture.Placement.Arm(spec.JobId); // the next activation's placement (the running one places nothing more)
        string victim;
        try
        {
            await cluster.StopSiloAsync(leaving); // graceful: the coordinator hands the job over
            await fixture.Placement.Reached.WaitAsync(TimeSpan.FromMinutes(1));
            string? coordinator = fixture.HostOf(job);
            var placement = (await job.GetStatus()).Placement;
            string[] hosts = [.. placement.Select(p => p.SiloName).Distinct()];
            // A stage's silo that does not run the new coordinator, when there is one: the failure this test is about.
            victim = hosts.FirstOrDefault(h => h != coordinator) ?? hosts[0];
            output.WriteLine($"{leaving.Name} handed the job over at step {(await job.GetStatus()).CompletedSteps}; its next activation on {coordinator} is placing " +
                $"(stages {string.Join(", ", placement.Select(p => $"s{p.Stage} on {p.SiloName}"))}); losing {victim}");
            await cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
        }
        finally
        {
            fixture.Placement.Release();
        }
        await cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. cluster.Silos.Skip(1).Select(s => s.Name)]);

        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var history = await JobHistory.All(fixture, spec.JobId);
        string story = JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobCoordinatorMoved or ClusterEventKind.JobRecovering
            or ClusterEventKind.JobRestored or ClusterEventKind.JobResumed));
        output.WriteLine(story);
        RecoveryAssert.CostNoCompletedStep(history, $"losing {victim} during the take-over: {story}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }
}
