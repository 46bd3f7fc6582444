using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Processes.Tests;

/// <summary>
/// Two data-parallel replicas of a one-stage job on real processes: rank 0 on silo 1, rank 1 on the primary (which
/// keeps the job, its history and the scheduler), and the stage's snapshot holder on silo 2; silo 3 only votes, so that
/// losing two silos leaves a majority whose membership declares them dead in seconds (with 3 silos the one left could
/// not reach them even indirectly and took over a minute, while every restore read of the lost holder waited). Only rank 0 snapshots,
/// so killing silos 1 and 2 at once (<c>kill -9</c>, at whatever moment of a step) takes every snapshot of the stage —
/// but rank 1 holds the same state live. The job restores from it: no counted step is recomputed, and it finishes with
/// the reference trainer's losses once the silos are back.
/// </summary>
public sealed class ReplicaLiveStateProcessTests(ITestOutputHelper output) : ProcessClusterTest
{
    protected override int Silos => 4;

    [Fact]
    public async Task Killing_rank_0_s_silo_and_its_holder_s_silo_at_once_restores_rank_1_s_live_state_and_costs_no_step()
    {
        var primary = Cluster.Primary;
        var rank0Silo = Cluster.Silos[1];
        var holderSilo = Cluster.Silos[2];
        var spec = TinyJob.Spec("live-replica", stages: 1, steps: 150, checkpointInterval: 20) with { SnapshotInterval = 1, MinReplicas = 1, MaxReplicas = 2 };
        var job = Cluster.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var scheduler = Cluster.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await MoveTo(scheduler, scheduler.GetNodes, primary.Name);
        await Retry(() => Cluster.ActivateOn(primary.Name, job.GetStatus));
        await KeepHistoryOnPrimary(spec.JobId);

        // One node open: the job starts with one replica, rank 0, on silo 1; then one of the primary's, where it grows
        // a second replica (rank 1).
        string rank0Node = $"{rank0Silo.Name}/cpu0";
        string rank1Node = $"{primary.Name}/cpu0";
        foreach (var node in await Retry(scheduler.GetNodes))
            if (node.Capabilities.NodeId != rank0Node) await scheduler.Cordon(node.Capabilities.NodeId, "live-replica test: rank 0 on silo 1");
        await job.Submit(spec);
        var alone = await WaitForStep(job, 2);
        Assert.True(alone.Replicas == 1 && alone.Placement.Single().NodeId == rank0Node, $"the job should start with one replica on {rank0Node}: {string.Join(", ", alone.Placement.Select(p => $"r{p.Replica}@{p.NodeId}"))}");
        await scheduler.Uncordon(rank1Node);
        var both = await WithDiagnostics(spec.JobId, () => Eventually.Value(job.GetStatus, s => (s.Replicas == 2 && s.State == JobState.Running) || IsEnded(s.State),
            TimeSpan.FromMinutes(2), "the job to grow a second replica on the primary"));
        Assert.False(IsEnded(both.State), $"the job ended ({both.State}: {both.Error}) before it grew.{Environment.NewLine}{Diagnostics(spec.JobId)}");
        Assert.Equal(rank0Node, both.Placement.Single(p => p.Replica == 0).NodeId);
        Assert.Equal(rank1Node, both.Placement.Single(p => p.Replica == 1).NodeId);

        await MoveTo(Cluster.Client.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(spec.JobId, 0)), () => Task.FromResult(true), holderSilo.Name); // no touch: clients may not call a holder
        var before = await WaitForStep(job, both.CompletedSteps + 3);
        Assert.True(before.CompletedSteps < spec.Steps - 50, $"the job is nearly done ({before.CompletedSteps} of {spec.Steps} steps) before the kills: the test would prove nothing");
        rank0Silo.Kill();
        holderSilo.Kill();
        output.WriteLine($"{rank0Silo.Name} (rank 0) and {holderSilo.Name} (its holder) killed at step {before.CompletedSteps}, last checkpoint {before.LastCheckpointStep}");
        await Cluster.RestartAsync(rank0Silo);
        await Cluster.RestartAsync(holderSilo);
        foreach (var node in await Retry(scheduler.GetNodes))
            await scheduler.Uncordon(node.Capabilities.NodeId); // room to grow back

        await AssertFinishedExactly(job, spec, before);
        var history = await History(spec.JobId);
        string told = string.Join(" | ", history.Where(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored or ClusterEventKind.ReplicasChanged || e.StepsLost > 0)
            .Select(e => $"{e.Kind} epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}"));
        output.WriteLine(told);
        RecoveryAssert.CostNoCompletedStep(history, $"{told}{Environment.NewLine}{Diagnostics(spec.JobId)}");
    }
}
