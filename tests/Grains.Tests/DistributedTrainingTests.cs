using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

public sealed class DistributedTrainingTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Four_stages_across_three_silos_train_bit_identically_to_the_reference_trainer()
    {
        var spec = TinyJob.Spec("bitexact-4x3");
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(3), "the job to finish");
        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}");
        Assert.Equal(30, status.CompletedSteps);

        var losses = await job.GetLossHistory();
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Length, losses.Count);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(losses[i]),
                $"step {i}: reference loss {expected[i]:R}, cluster loss {losses[i]:R}");

        // The stages were spread over the silos, one per node.
        Assert.Equal(4, status.Placement.Count);
        Assert.Equal(4, status.Placement.Select(p => p.NodeId).Distinct().Count());
        Assert.Equal(ClusterFixture.Silos, status.Placement.Select(p => NodeIds.SiloOf(p.NodeId)).Distinct().Count());
    }

    /// <summary>
    /// The heartbeats' device utilization: the nodes running a job's stages report their devices busy while it trains,
    /// and idle once it has finished.
    /// </summary>
    [Fact]
    public async Task Nodes_report_their_devices_busy_while_a_job_trains_and_idle_after_it()
    {
        var spec = TinyJob.Spec("utilization", stages: 2, steps: 100_000, checkpointInterval: 0);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await job.Submit(spec);
        string[] placed;
        try
        {
            var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 2, TimeSpan.FromMinutes(3), "the job to train");
            placed = [.. running.Placement.Select(p => p.NodeId)];
            await Eventually.Value(scheduler.GetNodes, nodes => placed.All(id => nodes.Single(n => n.Capabilities.NodeId == id).Health?.DeviceUtilization > 0),
                TimeSpan.FromMinutes(1), "every node running a stage to report its device busy");
        }
        finally
        {
            await job.Cancel(); // a failed check must not leave 100,000 steps training beside the class's other test
        }
        await Eventually.Value(job.GetStatus, s => s.State == JobState.Cancelled, TimeSpan.FromMinutes(1), "the job to stop");
        await Eventually.Value(scheduler.GetNodes, nodes => placed.All(id => nodes.Single(n => n.Capabilities.NodeId == id).Health?.DeviceUtilization == 0),
            TimeSpan.FromMinutes(1), "the nodes to report their devices idle once the job stopped");
    }
}
