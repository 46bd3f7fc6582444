using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>Losing the silo that hosts the scheduler (a cluster of its own: losing silos changes the cluster for good).</summary>
public sealed class SchedulerLossTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    [Fact]
    public async Task Losing_the_schedulers_silo_reactivates_it_elsewhere_nodes_register_again_and_the_job_finishes()
    {
        var cluster = fixture.Cluster;
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var spec = TinyJob.Spec("scheduler-loss", stages: 2, steps: 40, checkpointInterval: 5);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);

        // The scheduler on a silo of its own that holds neither the job grain nor the primary.
        await job.GetStatus();
        await scheduler.GetNodes();
        string? jobSilo = fixture.HostOf(job);
        var victim = cluster.Silos.Skip(1).First(s => s.Name != jobSilo);
        await fixture.MoveGrainAsync(scheduler, victim, scheduler.GetNodes);
        await Eventually.True(async () => (await scheduler.GetNodes()).Count(n => n.Health is not null) == cluster.Silos.Count * ClusterFixture.SlotsPerSilo,
            TimeSpan.FromSeconds(30), "every node to heartbeat into the moved scheduler");

        await job.Submit(spec);
        await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 8 || s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(2), "the job to pass step 8");
        int survivors = (cluster.Silos.Count - 1) * ClusterFixture.SlotsPerSilo;
        await cluster.KillSiloAsync(victim);

        // The scheduler's state is soft: it comes back empty on another silo and the survivors' nodes register again.
        await Eventually.True(async () => (await scheduler.GetNodes()).Count(n => n.Health is not null && !n.Lost && n.Capabilities.SiloName != victim.Name) == survivors,
            TimeSpan.FromMinutes(1), $"the {survivors} surviving nodes to register with the new scheduler");
        Assert.NotEqual(victim.Name, fixture.HostOf(scheduler));

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled, TimeSpan.FromMinutes(3), "the job to finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));
    }
}
