namespace Cluster.Processes.Tests;

/// <summary>
/// Issue 13: <c>kill -9</c> of the silo process hosting the scheduler while two jobs fill the fleet and a third waits.
/// The scheduler activates on another silo and rebuilds its table from the jobs before it admits anything: no node is
/// ever given to two jobs, and every job finishes with the reference trainer's losses.
/// </summary>
public sealed class SchedulerProcessKillTests : ProcessClusterTest
{
    [Fact]
    public async Task Killing_the_schedulers_process_under_a_two_job_load_never_double_books_a_node()
    {
        // The scheduler on silo 2 (not the primary, not the job grains' silo 1).
        var scheduler = Cluster.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var victim = Cluster.Silos[2];
        await MoveTo(scheduler, scheduler.GetNodes, victim.Name);

        var (first, firstSpec, jobHost, _) = await SubmitOnSilo1(TinyJob.Spec("sched-kill-a", stages: 3, steps: 80, checkpointInterval: 5));
        var secondSpec = TinyJob.Spec("sched-kill-b", stages: 3, steps: 80, checkpointInterval: 5);
        var second = Cluster.Client.GetGrain<ITrainingJobGrain>(secondSpec.JobId);
        await Retry(() => Cluster.ActivateOn(jobHost, second.GetStatus));
        await KeepHistoryOnPrimary(secondSpec.JobId);
        await second.Submit(secondSpec);
        var a = await WaitForStep(first, 3);
        var b = await WaitForStep(second, 3);
        var waitingSpec = TinyJob.Spec("sched-kill-c", stages: 2, steps: 10, checkpointInterval: 5);
        var waiting = Cluster.Client.GetGrain<ITrainingJobGrain>(waitingSpec.JobId);
        await Retry(() => Cluster.ActivateOn(jobHost, waiting.GetStatus));
        await waiting.Submit(waitingSpec);
        await WithDiagnostics(waitingSpec.JobId, () => Eventually.Value(waiting.GetStatus, s => s.State is JobState.WaitingForCapacity || IsEnded(s.State),
            TimeSpan.FromMinutes(1), "the third job to wait for nodes (the fleet is full)"));

        using var stop = new CancellationTokenSource();
        var doubleBooked = new List<string>();
        var sampler = DoubleBookingSampler.Sample([first, second, waiting], scheduler, doubleBooked, stop.Token);
        try
        {
            victim.Kill();
            foreach (var (job, spec, before) in new[] { (first, firstSpec, a), (second, secondSpec, b) })
            {
                if (before.Placement.Any(p => p.SiloName == victim.Name))
                {
                    await AssertFinishedExactly(job, spec, before);
                    continue;
                }
                var done = await WithDiagnostics(spec.JobId, () => Eventually.Value(job.GetStatus, s => IsEnded(s.State), TimeSpan.FromMinutes(3), "the job to finish"));
                Assert.True(done.State == JobState.Completed, $"job {spec.JobId} ended {done.State}: {done.Error}{Environment.NewLine}{Diagnostics(spec.JobId)}");
                Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits), (await Retry(job.GetLossHistory)).Select(BitConverter.DoubleToInt64Bits));
            }
            var last = await WithDiagnostics(waitingSpec.JobId, () => Eventually.Value(waiting.GetStatus, s => IsEnded(s.State), TimeSpan.FromMinutes(3), "the waiting job to run and finish"));
            Assert.True(last.State == JobState.Completed, $"job {waitingSpec.JobId} ended {last.State}: {last.Error}{Environment.NewLine}{Diagnostics(waitingSpec.JobId)}");
            Assert.Equal(TinyJob.ReferenceLosses(waitingSpec).Select(BitConverter.DoubleToInt64Bits), (await Retry(waiting.GetLossHistory)).Select(BitConverter.DoubleToInt64Bits));
        }
        finally
        {
            await stop.CancelAsync();
            await sampler;
        }
        Assert.True(doubleBooked.Count == 0, $"nodes held by two jobs at once: {string.Join("; ", doubleBooked.Distinct().Take(10))}{Environment.NewLine}{Diagnostics(waitingSpec.JobId)}");
        Assert.NotEqual(victim.Name, await SchedulerHost());
    }
}
