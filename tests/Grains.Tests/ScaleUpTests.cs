using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>Elastic scale-up: a job packed on too few nodes spreads onto a silo that joins, at a checkpoint boundary.</summary>
public sealed class ScaleUpTests(OneSiloClusterFixture fixture) : IClassFixture<OneSiloClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_packed_job_moves_stages_onto_a_silo_that_joins_and_keeps_the_trajectory()
    {
        var spec = TinyJob.Spec("scale-up", stages: 3, steps: 50, checkpointInterval: 5);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await using var events = await EventCollector.StartAsync(fixture.Client);

        await job.Submit(spec);
        var started = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 1 || s.State is JobState.Completed or JobState.Failed, Deadline, "the job to start");
        Assert.Equal(2, started.Placement.Select(p => p.NodeId).Distinct().Count()); // 3 stages on 2 nodes

        // Paused while the silo starts, so the run cannot finish first on a slow machine; resuming keeps the packed
        // placement (stages go back where they were), and the next checkpoint boundary spreads them.
        await job.Pause().WaitAsync(Deadline);
        await fixture.Cluster.StartAdditionalSiloAsync();
        await Eventually.True(async () => (await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes()).Count(n => n.Health is not null) == 4,
            Deadline, "the new silo's nodes to register");
        await job.Resume();

        await Eventually.True(async () => (await job.GetStatus()).Placement.Select(p => p.NodeId).Distinct().Count() == 3,
            Deadline, "the job to spread its 3 stages over 3 nodes");
        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled, Deadline, "the job to finish");
        Assert.Equal(JobState.Completed, done.State);
        Assert.DoesNotContain(events.Events, e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.JobRecovering);
        await Eventually.True(() => Task.FromResult(events.Events.Any(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.StagesMoved)),
            TimeSpan.FromSeconds(30), "a StagesMoved event");
        var moved = events.Events.First(e => e.JobId == spec.JobId && e.Kind == ClusterEventKind.StagesMoved);
        Assert.Contains("scale-up", moved.Message, StringComparison.Ordinal);
        Assert.Equal(0, moved.Step % spec.CheckpointInterval); // at a checkpoint boundary
        Assert.Equal(0, moved.StepsLost);

        var losses = await job.GetLossHistory();
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
