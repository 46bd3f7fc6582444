namespace Cluster.Processes.Tests;

/// <summary>
/// <c>kill -9</c> of a silo process while two jobs (different teams and priorities, each on nodes of its own) train —
/// the second one elastic, running 2 data-parallel replicas on the 4 nodes the first leaves free, so every node is
/// busy: the jobs that lose a stage recover (the elastic one shrinking if it must), the other is untouched, and both
/// finish with the reference trainer's losses.
/// </summary>
public sealed class TwoJobLoadTests : ProcessClusterTest
{
    [Fact]
    public async Task Killing_a_silo_under_a_two_job_load_keeps_both_trajectories()
    {
        var (first, firstSpec, jobHost, _) = await SubmitOnSilo1(TinyJob.Spec("load-a", stages: 2, steps: 100, checkpointInterval: 5));
        var secondSpec = TinyJob.Spec("load-b", stages: 2, steps: 100, checkpointInterval: 5) with { Team = "other", Priority = 1, MinReplicas = 1, MaxReplicas = 2 };
        var second = Cluster.Client.GetGrain<ITrainingJobGrain>(secondSpec.JobId);
        await Retry(() => Cluster.ActivateOn(jobHost, second.GetStatus)); // both coordinators on silo 1: the lost silo hosts stages only
        await KeepHistoryOnPrimary(secondSpec.JobId);
        await second.Submit(secondSpec);

        var a = await WaitForStep(first, 8);
        var b = await WaitForStep(second, 8);
        Assert.Empty(a.Placement.Select(p => p.NodeId).Intersect(b.Placement.Select(p => p.NodeId))); // a node runs one job at a time
        Assert.Equal(2, b.Replicas); // the 4 nodes job A left free
        var victim = Cluster.Silos.FirstOrDefault(s => s != Cluster.Primary && s.Name != jobHost && a.Placement.Concat(b.Placement).Any(p => p.SiloName == s.Name))
            ?? throw new InvalidOperationException($"No silo to lose: stages on {string.Join(", ", a.Placement.Concat(b.Placement).Select(p => p.NodeId))}, job grains on {jobHost}.");

        victim.Kill();

        foreach (var (job, spec, before) in new[] { (first, firstSpec, a), (second, secondSpec, b) })
        {
            if (before.Placement.Any(p => p.SiloName == victim.Name))
            {
                await AssertFinishedExactly(job, spec, before);
                continue;
            }
            var done = await WithDiagnostics(spec.JobId, () => Eventually.Value(job.GetStatus, s => IsEnded(s.State), TimeSpan.FromMinutes(3), "the untouched job to finish"));
            Assert.True(done.State == JobState.Completed, $"job {spec.JobId} ended {done.State}: {done.Error}{Environment.NewLine}{Diagnostics(spec.JobId)}");
            var expected = TinyJob.ReferenceLosses(spec);
            Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await Retry(job.GetLossHistory)).Select(BitConverter.DoubleToInt64Bits));
        }
    }
}
