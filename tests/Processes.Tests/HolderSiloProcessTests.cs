using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Processes.Tests;

/// <summary>
/// A job's stages on one silo process and all their snapshot holders on another, which holds nothing else; the
/// primary keeps the job, its history and the scheduler. Then, on real processes:
/// <list type="bullet">
/// <item>A false death verdict on the holders' silo. Frozen (SIGSTOP), its holders answer nothing, so the stages' copies
/// of the next step cannot be handed over and the job stops counting steps until the membership declares the silo
/// dead; then each stage re-creates its holder on a live silo (<c>PipelineStageGrain.SendToHolder</c>) and the job
/// carries on — no stage of a healthy silo is moved, no recovery is needed, no counted step is recomputed. The silo
/// then wakes (SIGCONT) with its stale copies: it learns it was declared dead and stops, the job records nothing of
/// it, and it finishes with the reference trainer's losses.</item>
/// <item>Both silos killed at once (<c>kill -9</c>): every in-memory copy is gone, so the job restores the newest
/// committed checkpoint once they are back, says how many steps it recomputes, and finishes with the reference
/// losses.</item>
/// </list>
/// </summary>
public sealed class HolderSiloProcessTests(ITestOutputHelper output) : ProcessClusterTest
{
    private const int Stages = 2;

    private static string Told(IEnumerable<ClusterEvent> events) => string.Join(" | ", events.Select(e => $"{e.Kind} epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}"));

    /// <summary>
    /// Submits the job with its stages on silo 1 (every other node cordoned) and moves every stage's holder to silo 2;
    /// returns once the job has counted 3 more steps, their copies held there.
    /// </summary>
    private async Task<(ITrainingJobGrain Job, JobSpec Spec, JobStatus Before)> StagesAndHoldersApart(string jobId, int steps, int checkpointInterval)
    {
        var primary = Cluster.Primary;
        var stageSilo = Cluster.Silos[1];
        var spec = TinyJob.Spec(jobId, stages: Stages, steps: steps, checkpointInterval: checkpointInterval) with { SnapshotInterval = 1 };
        var job = Cluster.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var scheduler = Cluster.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await MoveTo(scheduler, scheduler.GetNodes, primary.Name);
        await Retry(() => Cluster.ActivateOn(primary.Name, job.GetStatus));
        await KeepHistoryOnPrimary(spec.JobId);
        foreach (var node in (await Retry(scheduler.GetNodes)).Where(n => !n.Capabilities.NodeId.StartsWith(stageSilo.Name + "/", StringComparison.Ordinal)))
            await scheduler.Cordon(node.Capabilities.NodeId, "holder-silo test: stages on one silo");
        await job.Submit(spec);
        var running = await WaitForStep(job, 3);
        Assert.True(running.Placement.All(p => p.SiloName == stageSilo.Name), $"stages on {string.Join(", ", running.Placement.Select(p => p.NodeId))}, not all on {stageSilo.Name}");
        for (int s = 0; s < Stages; s++)
            await MoveTo(Cluster.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(spec.JobId, s)), () => Task.FromResult(true), Cluster.Silos[2].Name); // no touch: clients may not call a holder
        return (job, spec, await WaitForStep(job, running.CompletedSteps + 3));
    }

    [Fact]
    public async Task A_frozen_silo_that_only_holds_snapshot_copies_costs_no_step_no_move_and_no_recovery_and_changes_nothing_when_it_wakes()
    {
        var stageSilo = Cluster.Silos[1];
        var holderSilo = Cluster.Silos[2];
        var (job, spec, before) = await StagesAndHoldersApart("frozen-holder", steps: 300, checkpointInterval: 20);
        Assert.True(before.CompletedSteps < spec.Steps - 100, $"the job is nearly done ({before.CompletedSteps} of {spec.Steps} steps) before the freeze: the test would prove nothing");

        holderSilo.Suspend();
        var frozenAt = DateTimeOffset.UtcNow;
        var movedOn = await WaitForStep(job, before.CompletedSteps + 5);
        var counting = DateTimeOffset.UtcNow;
        for (int s = 0; s < Stages; s++)
        {
            var holder = Cluster.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(spec.JobId, s));
            string? host = await Retry(() => Cluster.HostOf(holder));
            Assert.True(host is not null && host != holderSilo.Name && host != stageSilo.Name, $"s{s}'s holder is on {host ?? "no silo"}: it should be on a live silo away from its stage{Environment.NewLine}{Diagnostics(spec.JobId)}");
        }
        output.WriteLine($"{holderSilo.Name} frozen at step {before.CompletedSteps}; step {movedOn.CompletedSteps} counted {(counting - frozenAt).TotalSeconds:F1} s later, the holders re-created away from it");

        var wokeAt = DateTimeOffset.UtcNow;
        holderSilo.Resume();
        var done = await AssertCompletedWithReferenceLosses(job, spec);
        await Eventually.True(() => Task.FromResult(holderSilo.HasExited), TimeSpan.FromSeconds(60), $"the woken {holderSilo.Name}, declared dead, to stop");

        var history = await History(spec.JobId);
        string told = Told(history.Where(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored or ClusterEventKind.StagesMoved || e.StepsLost > 0));
        output.WriteLine($"finished at step {done.CompletedSteps}, epoch {done.Epoch}; {holderSilo.Name} has exited; recoveries and moves: {(told.Length == 0 ? "none" : told)}");
        RecoveryAssert.CostNoCompletedStep(history, Diagnostics(spec.JobId));
        Assert.True(done.Epoch == before.Epoch && !history.Any(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored or ClusterEventKind.StagesMoved),
            $"a silo that holds only copies is no stage's failure: the job should neither recover nor move a stage (epoch {before.Epoch} → {done.Epoch}): {told}{Environment.NewLine}{Diagnostics(spec.JobId)}");
        Assert.True(done.Placement.All(p => p.SiloName == stageSilo.Name), $"stages ended on {string.Join(", ", done.Placement.Select(p => p.NodeId))}, not on {stageSilo.Name}");
        var afterWake = history.Where(e => e.At > wokeAt && e.Epoch != done.Epoch && e.Epoch > 0).ToArray();
        Assert.True(afterWake.Length == 0, $"after {holderSilo.Name} woke the history recorded events of another epoch: {Told(afterWake)}");
    }

    [Fact]
    public async Task Killing_the_stages_silo_and_the_holders_silo_at_once_restores_the_newest_checkpoint_with_the_reference_losses()
    {
        const int interval = 10;
        var (job, spec, _) = await StagesAndHoldersApart("killed-apart", steps: 80, checkpointInterval: interval);
        var before = await WithDiagnostics(spec.JobId, () => Eventually.Value(job.GetStatus,
            s => (s.State == JobState.Running && s.LastCheckpointStep >= interval && s.CompletedSteps % interval != 0) || IsEnded(s.State),
            TimeSpan.FromMinutes(2), "the job to commit a checkpoint and run a step past one"));
        Assert.False(IsEnded(before.State), $"the job ended ({before.State}: {before.Error}) before the kills");
        Cluster.Silos[1].Kill();
        Cluster.Silos[2].Kill();
        output.WriteLine($"{Cluster.Silos[1].Name} (stages) and {Cluster.Silos[2].Name} (holders) killed at step {before.CompletedSteps}, last checkpoint {before.LastCheckpointStep}");
        await Cluster.RestartAsync(Cluster.Silos[1]);
        await Cluster.RestartAsync(Cluster.Silos[2]);

        await AssertFinishedExactly(job, spec, before);
        var history = await History(spec.JobId);
        string diagnostics = Diagnostics(spec.JobId);
        long step = RecoveryAssert.RestoredTheNewestCheckpoint(history, before.LastCheckpointStep ?? 0, before.CompletedSteps, diagnostics);
        output.WriteLine($"restored the checkpoint at step {step}: {Told(history.Where(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored))}");
    }
}
