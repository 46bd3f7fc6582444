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
        var (spec, job, leaving, before) = await LeavingCoordinator.Running(fixture, "coordinator-handover");

        await fixture.Cluster.StopSiloAsync(leaving); // graceful: Orleans deactivates the job grain, which hands the job over first

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
