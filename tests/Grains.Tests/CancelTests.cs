using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

public sealed class CancelTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_cancelled_job_stops_training_and_releases_its_nodes_and_stages()
    {
        var spec = TinyJob.Spec("cancel-long", stages: 2, steps: 500, checkpointInterval: 0);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || s.State is JobState.Failed or JobState.Completed,
            TimeSpan.FromMinutes(2), "the job to complete 3 steps");
        Assert.True(running.State is JobState.Running, $"job is {running.State} ({running.Error}) instead of running");
        Assert.Equal(2, (await scheduler.GetPlacement(spec.JobId)).Count);

        var cancelled = await job.Cancel().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Null(cancelled.Error);
        Assert.InRange(cancelled.CompletedSteps, 3, 499);
        Assert.Equal(cancelled.CompletedSteps, (await job.GetLossHistory()).Count);
        var again = await job.Cancel(); // cancelling again changes nothing
        Assert.Equal(JobState.Cancelled, again.State);
        Assert.Equal(cancelled.CompletedSteps, again.CompletedSteps);
        Assert.Equal(cancelled.Epoch, again.Epoch);

        // The nodes are released, and both stage activations are gone (looked up in the silos' catalogs: a probing call
        // could itself interfere with a deactivation in progress).
        await Eventually.True(async () => (await scheduler.GetPlacement(spec.JobId)).Count == 0, TimeSpan.FromSeconds(60),
            "the scheduler to hold no placement for the job");
        for (int s = 0; s < 2; s++)
        {
            var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, s));
            await Eventually.True(() => Task.FromResult(!fixture.Cluster.TryGetGrainContext(stage.GetGrainId(), out _)),
                TimeSpan.FromSeconds(60), $"stage {s} to be deactivated");
        }

        // Training stays stopped: check the status twice, a few node heartbeats apart (time demonstrably passes).
        for (int check = 0; check < 2; check++)
        {
            var heartbeats = (await scheduler.GetNodes()).ToDictionary(n => n.Capabilities.NodeId, n => n.Health!.Sequence);
            await Eventually.True(async () => (await scheduler.GetNodes()).All(n => n.Health!.Sequence >= heartbeats[n.Capabilities.NodeId] + 3),
                TimeSpan.FromSeconds(30), "three more heartbeats from every node");
            var later = await job.GetStatus();
            Assert.Equal(JobState.Cancelled, later.State);
            Assert.Equal(cancelled.CompletedSteps, later.CompletedSteps);
            Assert.Equal(cancelled.CompletedSteps, (await job.GetLossHistory()).Count);
            Assert.Empty(await scheduler.GetPlacement(spec.JobId));
        }
    }
}
