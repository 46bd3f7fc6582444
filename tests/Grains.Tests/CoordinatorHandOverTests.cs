using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A coordinator whose silo shuts down gracefully (a rolling update) hands the job over at a step boundary; the job's
/// next activation carries on from the stages' live state — no recovery, no failure counted, no step recomputed.
/// </summary>
public sealed class CoordinatorHandOverTests(CoordinatorStopClusterFixture fixture) : IClassFixture<CoordinatorStopClusterFixture>
{
    [Fact]
    public async Task A_coordinator_whose_silo_shuts_down_hands_the_job_over_and_the_next_activation_carries_on_without_a_recovery()
    {
        var cluster = fixture.Cluster;
        // Steps enough that the job still runs when Orleans deactivates its grain, late in the silo's stop, on a fast machine.
        var spec = TinyJob.Spec("coordinator-handover", stages: 2, steps: 250, checkpointInterval: 25);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId); // the history outlives the coordinator's silo
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var leaving = await fixture.MoveToALosableSilo(job);
        // Only the coordinator lives on the silo that leaves: a stage there would have to move first, which the silos of
        // this in-memory cluster (no DrainOnShutdown) do not do — the job would recover for the stage, not the coordinator.
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. cluster.Silos.Where(s => s.Name != leaving.Name).Select(s => s.Name)]);
        await job.Submit(spec);
        var before = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 4 || JobRuns.IsFinished(s), TimeSpan.FromMinutes(2), "the job to pass step 4");
        Assert.True(before.State is JobState.Running or JobState.Checkpointing, $"job is {before.State}: {before.Error}");
        Assert.Equal(leaving.Name, fixture.HostOf(job));

        await cluster.StopSiloAsync(leaving); // graceful: Orleans deactivates the job grain, which hands the job over first

        var done = await JobRuns.Finished(job);
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");

        var history = await JobHistory.All(fixture, spec.JobId);
        var moved = history.Where(e => e.Kind == ClusterEventKind.JobCoordinatorMoved).ToArray();
        Assert.True(moved.Length == 1, $"expected one JobCoordinatorMoved: {JobHistory.Told(history)}");
        Assert.Equal(0, moved[0].StepsLost);
        Assert.Contains(leaving.Name, moved[0].Message, StringComparison.Ordinal);
        Assert.True(moved[0].Epoch > before.Epoch, $"taken over in epoch {moved[0].Epoch}, not after the leaving coordinator's {before.Epoch}");
        Assert.True(!history.Any(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored or ClusterEventKind.JobResumed),
            $"the hand-over was recovered from as a failure: {JobHistory.Told(history)}");
        var handedOver = fixture.Logs.Of(leaving, "LogHandedOver").Where(l => l.Message.Contains($"Job {spec.JobId}", StringComparison.Ordinal)).ToArray();
        Assert.True(handedOver.Length == 1, $"the leaving coordinator did not say it handed the job over:{Environment.NewLine}{fixture.Logs.Dump(leaving)}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }
}
