using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>Losing the silo of the job grain itself (a cluster of its own: losing silos changes the cluster for good).</summary>
public sealed class CoordinatorLossTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    [Fact]
    public async Task Losing_the_silo_that_hosts_the_job_grain_reactivates_it_elsewhere_and_it_carries_on()
    {
        var cluster = fixture.Cluster;
        var spec = TinyJob.Spec("coordinator-loss", stages: 4, steps: 40, checkpointInterval: 5);
        var (job, victim, _) = await JobRuns.SubmittedOnALosableSilo(fixture, spec, 12);
        await cluster.KillSiloAsync(victim);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(4), "the job to be woken on another silo and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.NotEqual(victim.Name, fixture.HostOf(job));
        Assert.True(done.Epoch >= 2, $"the new activation starts a new epoch (epoch {done.Epoch})");
        var losses = await job.GetLossHistory();
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }

}
