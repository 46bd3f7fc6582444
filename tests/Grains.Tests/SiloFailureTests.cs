using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Orleans.Streams;

namespace Cluster.Grains.Tests;

public sealed class SiloFailureTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    [Fact]
    public async Task Losing_a_silo_that_hosts_a_stage_mid_run_moves_only_its_stages_and_keeps_the_trajectory()
    {
        var spec = TinyJob.Spec("silo-loss", stages: 4, steps: 40, checkpointInterval: 5);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 12 || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(2), "the job to pass step 12");
        Assert.Equal(JobState.Running, running.State is JobState.Checkpointing ? JobState.Running : running.State);

        // A silo that hosts a stage, but not the cluster's primary, the job grain or the scheduler (the loss of those
        // is a different story): with 4 stages spread over 4 silos there is always one.
        var cluster = fixture.Cluster;
        var victim = fixture.SiloToLose(job, running) ?? throw new InvalidOperationException("No silo to lose: every stage silo also hosts the primary, the job grain or the scheduler.");
        var before = running.Placement.ToDictionary(p => p.Stage, p => p.NodeId);
        await cluster.KillSiloAsync(victim);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(4), "the job to recover and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.True(done.Epoch >= 2, $"a recovery bumps the epoch (epoch {done.Epoch})");
        Assert.DoesNotContain(done.Placement, p => p.SiloName == victim.Name);
        foreach (var stage in done.Placement.Where(p => NodeSilo(before[p.Stage]) != victim.Name))
            Assert.Equal(before[stage.Stage], stage.NodeId); // survivors stayed where they were

        var losses = await job.GetLossHistory();
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Length, losses.Count);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(losses[i]),
                $"step {i}: reference {expected[i]:R}, after recovery {losses[i]:R}");
        Assert.Contains(await job.ListCheckpoints(), m => m.Step == 40);
    }

    private static string NodeSilo(string nodeId) => nodeId[..nodeId.LastIndexOf('/')];
}
