using System.Globalization;

namespace Cluster.Processes.Tests;

/// <summary>
/// A job-wide failure: every silo process of the cluster killed (<c>kill -9</c>) at once, as a power loss or a bug
/// that crashes every rank alike would — no in-memory snapshot survives. A new cluster started on the same storage
/// (job state, event history and checkpoints under the same data root; new silo names, so none of the old nodes comes
/// back) takes the job up from its persisted state without being asked (no client calls the job grain until it has
/// restored): it restores the newest durable checkpoint
/// committed before the loss, says so and how many steps it recomputes, and finishes with the reference trainer's
/// losses to the bit.
/// </summary>
public sealed class WholeClusterLossProcessTests(ITestOutputHelper output) : ProcessClusterTest
{
    private const int CheckpointInterval = 10;

    [Fact]
    public async Task A_job_whose_every_silo_is_killed_at_once_resumes_on_a_new_cluster_from_its_durable_checkpoint_with_the_reference_losses()
    {
        var (job, spec, _, _) = await SubmitOnSilo1(TinyJob.Spec("whole-cluster", stages: 2, steps: 160, checkpointInterval: CheckpointInterval));
        var running = await WithDiagnostics(spec.JobId, () => Eventually.Value(job.GetStatus,
            s => (s.State == JobState.Running && s.LastCheckpointStep >= 2 * CheckpointInterval && s.CompletedSteps % CheckpointInterval != 0) || IsEnded(s.State),
            TimeSpan.FromMinutes(2), "the job to commit its second checkpoint and run a step past one"));
        Assert.False(IsEnded(running.State), $"the job ended ({running.State}: {running.Error}) before the loss");
        foreach (var silo in Cluster.Silos) silo.Kill();
        output.WriteLine($"every silo killed at step {running.CompletedSteps} (last checkpoint {running.LastCheckpointStep}, epoch {running.Epoch})");

        await using var again = await SiloProcessCluster.StartAsync(new SiloProcessClusterOptions
        {
            SiloAssembly = SiloProgram.Locate(typeof(WholeClusterLossProcessTests).Assembly),
            Silos = Silos,
            SlotsPerSilo = SlotsPerSilo,
            ThreadsPerSlot = 1,
            DataRoot = DataRoot,
            LogDirectory = Path.Combine(DataRoot, "logs-again"),
            NamePrefix = "again-",
        });
        await again.WaitForReadyNodesAsync(Silos * SlotsPerSilo, TimeSpan.FromMinutes(2));
        var ready = DateTimeOffset.UtcNow;
        // Nobody calls the job grain until it has restored: the new silos' watchdog wakes it from its persisted state.
        var history = await Eventually.Value(() => History(spec.JobId, again), h => h.Any(e => e.Kind == ClusterEventKind.JobRestored && e.Epoch > running.Epoch),
            TimeSpan.FromMinutes(2), $"the job to restore on the new cluster, untouched (its recorded history){Environment.NewLine}{again.Diagnostics()}");
        output.WriteLine($"restored on the new cluster {(DateTimeOffset.UtcNow - ready).TotalSeconds:F1} s after its nodes were ready (seen in the history)");
        var resumed = again.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var done = await Eventually.Value(resumed.GetStatus, s => IsEnded(s.State), TimeSpan.FromMinutes(3), $"the job to finish on the new cluster{Environment.NewLine}{again.Diagnostics()}");
        Assert.True(done.State == JobState.Completed, $"the job ended {done.State}: {done.Error}{Environment.NewLine}{again.Diagnostics()}");
        Assert.True(done.Placement.All(p => p.SiloName.StartsWith("again-", StringComparison.Ordinal)), $"placement {string.Join(", ", done.Placement.Select(p => p.NodeId))}");

        var expected = TinyJob.ReferenceLosses(spec);
        var losses = await resumed.GetLossHistory();
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));

        var restore = history.First(e => e.Kind == ClusterEventKind.JobRestored && e.Epoch > running.Epoch);
        output.WriteLine($"on the new cluster: {restore.Message}; {restore.StepsLost} step(s) recomputed; finished at step {done.CompletedSteps}, epoch {done.Epoch}");
        const string FromCheckpoint = RestoredFrom.Checkpoint;
        Assert.StartsWith(FromCheckpoint, restore.Message, StringComparison.Ordinal);
        long step = long.Parse(new string([.. restore.Message[FromCheckpoint.Length..].TakeWhile(char.IsAsciiDigit)]), CultureInfo.InvariantCulture);
        Assert.True(step >= running.LastCheckpointStep, $"restored step {step}, before the checkpoint at step {running.LastCheckpointStep} committed before the loss: {restore.Message}");
        Assert.True(restore.StepsLost > 0 || step >= running.CompletedSteps, $"the restore from step {step} says it recomputes no step, but {running.CompletedSteps} were counted before the loss: {restore.Message}");
    }
}
