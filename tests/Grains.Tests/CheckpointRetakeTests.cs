using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A checkpoint that came due but was cut short by a failure is taken again at the first step boundary after the
/// recovery (<c>JobPhase.AtBoundary.RetakeCheckpoint</c>), not an interval later: the commit of step 10 is cut short
/// while a stage silo is lost, the job restores from memory at step 10 or later, and a checkpoint before step 15
/// (the next interval) is committed. Storage retries wait 10 minutes here, so only the retake can take it.
/// </summary>
public sealed class CheckpointRetakeTests(RetakeClusterFixture fixture) : IClassFixture<RetakeClusterFixture>
{
    [Fact]
    public async Task A_checkpoint_cut_short_by_a_failure_is_retaken_at_the_first_boundary_after_recovery()
    {
        var spec = TinyJob.Spec("retake", stages: 2, steps: 24, checkpointInterval: 5) with { KeepCheckpoints = 20, SnapshotInterval = 1 };
        var cutShort = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FaultyCheckpointStore.BeforeCommitOf(spec.JobId, async (manifest, _) =>
        {
            if (manifest.Step != 10 || !cutShort.TrySetResult()) return;
            await killed.Task.WaitAsync(TimeSpan.FromMinutes(2));
            throw new IOException("injected: the checkpoint at step 10 was cut short by the failure");
        });
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        // The job grain and the scheduler on the primary, stages only elsewhere, so a stage silo can always be lost
        // (left to placement, every stage silo once also hosted the job grain or the scheduler: the test could not start).
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await job.Submit(spec);

        await cutShort.Task.WaitAsync(TimeSpan.FromMinutes(3));
        var running = await job.GetStatus();
        var victim = fixture.SiloToLose(job, running) ?? throw new InvalidOperationException("No silo to lose: every stage silo also hosts the primary, the job grain or the scheduler.");
        await fixture.Cluster.KillSiloAsync(victim);
        killed.TrySetResult();

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(4), "the job to recover and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.True(done.Epoch > 1, $"the job never recovered (epoch {done.Epoch})");
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));
        var steps = (await job.ListCheckpoints()).Select(m => m.Step).ToArray();
        Assert.True(steps.Any(s => s is >= 10 and < 15), $"no checkpoint was retaken before the next interval: committed {string.Join(", ", steps)}");
    }
}
