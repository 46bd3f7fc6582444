using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;

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
}
