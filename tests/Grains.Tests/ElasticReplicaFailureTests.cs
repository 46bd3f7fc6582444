using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// Elastic replicas under a real failure: a silo dies under a job running 4 replicas × 2 stages on all 8 nodes of a
/// 4-silo cluster. The job shrinks to the replicas that fit on the 6 nodes left (2: counts must split the 4
/// micro-batches evenly) instead of stopping, and grows back to 4 when a silo joins — with every step's loss equal to
/// the reference trainer's at the same global batch.
/// </summary>
public sealed class ElasticReplicaFailureTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    [Fact]
    public async Task A_job_shrinks_when_a_silo_dies_and_grows_back_when_one_joins_keeping_the_trajectory()
    {
        var spec = TinyJob.Spec("elastic-kill", stages: 2, steps: 600, checkpointInterval: 25) with { MinReplicas = 1, MaxReplicas = 4 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await JobHistory.KeepOnPrimary(fixture, spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => (s.Replicas == 4 && s.CompletedSteps >= 3) || JobRuns.IsFinished(s), JobRuns.Deadline, "4 replicas to run 3 steps");
        Assert.Equal(4, running.Replicas);

        var victim = fixture.SiloToLose(job, running) ?? throw new InvalidOperationException("No silo to lose: every stage silo also hosts the primary, the job grain or the scheduler.");
        await fixture.Cluster.KillSiloAsync(victim);
        var shrunk = await Eventually.Value(job.GetStatus, s => (s.Replicas == 2 && s.State == JobState.Running) || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to shrink to 2 replicas");
        Assert.Equal(2, shrunk.Replicas);
        Assert.DoesNotContain(shrunk.Placement, p => p.SiloName == victim.Name);

        await fixture.Cluster.StartAdditionalSiloAsync();
        var grown = await Eventually.Value(job.GetStatus, s => s.Replicas == 4 || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to grow back to 4 replicas");
        Assert.Equal(4, grown.Replicas);
        await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= grown.CompletedSteps + 3 || JobRuns.IsFinished(s), JobRuns.Deadline, "3 steps with 4 replicas again");
        await job.Cancel();

        // The recorded history, not the live stream: the stream's queue may have lived on the silo the test killed.
        var mine = await JobHistory.When(fixture, spec.JobId, h => h.Count(e => e.Kind == ClusterEventKind.ReplicasChanged) >= 2, "the shrink and grow events");
        Assert.Contains(mine, e => e.Kind == ClusterEventKind.ReplicasChanged && e.Message.StartsWith("replicas 4 → 2", StringComparison.Ordinal));
        Assert.Contains(mine, e => e.Kind == ClusterEventKind.ReplicasChanged && e.Message.StartsWith("replicas 2 → 4", StringComparison.Ordinal));
        Assert.Single(mine, e => e.Kind == ClusterEventKind.JobRestored);
        RecoveryAssert.CostNoCompletedStep(mine, JobHistory.Told(mine));
        await JobRuns.AssertReferencePrefix(job, spec);
    }
}
