using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>A recovery after the loss of the job grain's own silo is narrated like any other, with timings and epochs.</summary>
public sealed class CoordinatorLossNarrationTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    [Fact]
    public async Task Losing_the_coordinator_is_narrated_as_JobRecovering_then_JobResumed_with_timings_from_the_failure()
    {
        var cluster = fixture.Cluster;
        var spec = TinyJob.Spec("coordinator-loss-narrated", stages: 2, steps: 30, checkpointInterval: 5);
        // The job's history stays on the primary: the job grain's silo is lost below, the history must not go with it.
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        var (job, victim, before) = await JobRuns.SubmittedOnALosableSilo(fixture, spec, 8);
        await cluster.KillSiloAsync(victim);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(4), "the job to be woken on another silo and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");

        // The recorded history, not the live stream: the stream's queue may have lived on the silo the test killed.
        var lost = await JobHistory.When(fixture, spec.JobId, h => h.Any(e => e.Kind == ClusterEventKind.JobResumed), "the JobResumed event");
        var recovering = lost.First(e => e.Kind == ClusterEventKind.JobRecovering); // the coordinator's loss comes first
        Assert.Contains("coordinator was lost", recovering.Message, StringComparison.Ordinal);
        Assert.Equal(before.Epoch, recovering.Epoch); // narrated in the epoch it recovers from
        Assert.NotNull(recovering.Seconds);
        var resumed = lost.First(e => e.Kind == ClusterEventKind.JobResumed);
        Assert.True(resumed.Epoch > before.Epoch, $"JobResumed in epoch {resumed.Epoch}, after epoch {before.Epoch}");
        Assert.True(resumed.Seconds >= recovering.Seconds, $"JobResumed {resumed.Seconds} s after the failure, JobRecovering {recovering.Seconds} s");
        Assert.All(lost, e => Assert.True(e.Epoch > 0, $"{e.Kind} without an epoch"));
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }
}
