using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Orleans.Runtime;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13, "state is lost on restart": the scheduler's silo dies while two jobs run and a third waits. The new
/// activation rebuilds its table from the jobs' reports before it admits anything, so the waiting job never lands on a
/// node a running job holds, and both running jobs finish with their reference trajectories. (A cluster of its own:
/// losing silos changes the cluster for good.)
/// </summary>
public sealed class SchedulerRecoveryTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Losing_the_schedulers_silo_under_two_running_jobs_and_one_waiting_never_double_books_a_node()
    {
        var cluster = fixture.Cluster;
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        // Two jobs fill the 8 nodes (exclusive nodes); the third waits for one of them to finish.
        JobSpec[] specs =
        [
            TinyJob.Spec("sched-recovery-a", stages: 4, steps: 30, checkpointInterval: 5),
            TinyJob.Spec("sched-recovery-b", stages: 4, steps: 30, checkpointInterval: 5),
            TinyJob.Spec("sched-recovery-c", stages: 2, steps: 10, checkpointInterval: 5),
        ];
        var jobs = specs.Select(s => fixture.Client.GetGrain<ITrainingJobGrain>(s.JobId)).ToArray();
        foreach (var job in jobs) await job.GetStatus();
        await fixture.Client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default).GetActive();
        await scheduler.GetNodes();

        // The scheduler on a silo of its own: not the primary, no job grain, not the registry. Grain placement may have
        // spread the three jobs and the registry over every other silo: job grains on the chosen silo move to the primary.
        string? registryHost = fixture.HostOf(fixture.Client.GetGrain<IJobRegistryGrain>(JobRegistryKeys.Default));
        var victim = cluster.Silos.Skip(1).OrderBy(s => jobs.Count(j => fixture.HostOf(j) == s.Name)).First(s => s.Name != registryHost);
        foreach (var job in jobs.Where(j => fixture.HostOf(j) == victim.Name))
            await fixture.MoveGrainAsync(job, cluster.Silos[0], job.GetStatus);
        Assert.DoesNotContain(jobs, j => fixture.HostOf(j) == victim.Name);
        await fixture.MoveGrainAsync(scheduler, victim, scheduler.GetNodes);
        await Eventually.True(async () => (await scheduler.GetNodes()).Count(n => n.Health is not null) == cluster.Silos.Count * ClusterFixture.SlotsPerSilo,
            TimeSpan.FromSeconds(30), "every node to heartbeat into the moved scheduler");

        await jobs[0].Submit(specs[0]);
        await jobs[1].Submit(specs[1]);
        foreach (var job in jobs.Take(2))
            await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 2 || s.State is JobState.Completed or JobState.Failed, Deadline, "both jobs running");
        await jobs[2].Submit(specs[2]);
        await Eventually.Value(jobs[2].GetStatus, s => s.State is JobState.WaitingForCapacity or JobState.Failed, Deadline, "the third job to wait for nodes");

        using var watch = new CancellationTokenSource();
        var doubleBooked = new List<string>();
        var sampler = DoubleBookingSampler.Sample(jobs, scheduler, doubleBooked, watch.Token);
        try
        {
            await cluster.KillSiloAsync(victim);
            var done = new JobStatus[jobs.Length];
            for (int i = 0; i < jobs.Length; i++)
                done[i] = await Eventually.Value(jobs[i].GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled, Deadline, $"job {specs[i].JobId} to finish");
            Assert.NotEqual(victim.Name, fixture.HostOf(scheduler));
            for (int i = 0; i < jobs.Length; i++)
            {
                Assert.True(done[i].State == JobState.Completed, $"job {specs[i].JobId} ended {done[i].State}: {done[i].Error}");
                Assert.Equal(TinyJob.ReferenceLosses(specs[i]).Select(BitConverter.DoubleToInt64Bits),
                    (await jobs[i].GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));
            }
        }
        finally
        {
            await watch.CancelAsync();
            await sampler;
        }
        Assert.True(doubleBooked.Count == 0, $"nodes held by two jobs at once: {string.Join("; ", doubleBooked.Distinct().Take(10))}");
    }
}
