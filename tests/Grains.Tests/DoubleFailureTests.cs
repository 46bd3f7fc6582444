using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Tests;

/// <summary>
/// Two failures close together: at once, or the second while the job recovers from the first. The promise (README,
/// "Fault tolerance"): a completed step is recomputed only when every copy of some stage's state is lost — its own
/// silo's and its holder's. Two failures that leave a copy of every stage cost no completed step, even when the second
/// lands in the middle of the first's restore; two that take both copies of a stage restore the newest committed
/// durable checkpoint (every stage of it, also those whose copies survived) and say how many steps they recompute.
/// With data-parallel replicas only rank 0 snapshots, but a surviving rank's live state is a copy too — of the counted
/// step, or of the one whose update the job had sent — so rank 0's silo and its holder's lost together cost no step.
/// In every case the losses stay the reference trainer's bit for bit. A job of 3 stages (or 2 replicas × 2
/// stages) runs off the primary silo
/// (which keeps the job, the scheduler and its history, and is never lost), with a durable checkpoint every
/// <see cref="CheckpointInterval"/> steps.
/// </summary>
public sealed class DoubleFailureTests(CallMomentClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CallMomentClusterFixture>
{
    private const int CheckpointInterval = 4;

    /// <summary>The stage whose copies the cases take: a middle one, so the stages on both sides must follow its restore.</summary>
    private const int Stage = 1;

    private static readonly CallMoment RestoreRead = new("s1's restore reading its holder's copy", nameof(ICheckpointShardGrain.GetSnapshot), Replica: 0, Stage: Stage, Holder: true);

    [Fact]
    public async Task Losing_a_stage_s_silo_and_its_holder_s_silo_at_once_restores_the_newest_checkpoint_and_says_what_it_recomputes()
    {
        var (spec, job, running) = await Start("double-at-once");
        string stageSilo = StageSilo(running, Stage);
        string holderSilo = await HolderSiloOffPrimary(spec, job);
        var before = await job.GetStatus();
        output.WriteLine($"losing {stageSilo} (s{Stage}) and {holderSilo} (its holder) at once at step {before.CompletedSteps}, last checkpoint {before.LastCheckpointStep}");
        await LoseTogether(spec.JobId, stageSilo, holderSilo);

        await Recovers(spec, job, before, fresh: 2, fromCheckpoint: true, $"lost {stageSilo} and {holderSilo} at once at step {before.CompletedSteps}");
    }

    [Fact]
    public async Task Losing_rank_0_s_silo_and_its_holder_s_silo_mid_step_restores_rank_1_s_live_state_and_costs_no_completed_step()
    {
        // Only rank 0 snapshots, so its silo and its holder's hold every snapshot of s1; rank 1's s1 still holds, live,
        // the state of the counted step (it cannot update: its all-reduce waits for rank 0's held pass), and the job
        // restores every stage from memory.
        var (spec, job, _) = await Start("double-dp-live", replicas: 2);
        var moment = new CallMoment("rank 0's s1 forward of a step", nameof(IPipelineStageGrain.RunMicroBatch), Replica: 0, Stage: Stage);
        var (before, what) = await LoseRank0AndItsHolderAt(spec, job, moment, heldUntil: _ => true);

        await Recovers(spec, job, before, fresh: 2, fromCheckpoint: false, what);
    }

    [Fact]
    public async Task Losing_rank_0_s_silo_and_its_holder_s_silo_once_rank_1_has_applied_the_update_restores_the_updated_state_and_costs_no_step()
    {
        // Rank 1 applied the step's update while rank 0's is held, so its state is one step past the count, and rank 0's
        // snapshot of it never began. The job knows that step's loss (it sent the update), so rank 1's live state of it
        // is a copy like a held snapshot, and the job counts the step: nothing is recomputed, the count does not go back.
        var (spec, job, _) = await Start("double-dp-past", replicas: 2);
        var moment = new CallMoment("rank 0's s1 update", nameof(IPipelineStageGrain.ApplyUpdate), Replica: 0, Stage: Stage);
        string peerUpdate = $"{StageKeys.Stage(spec.JobId, 1, Stage)}.{nameof(IPipelineStageGrain.ApplyUpdate)}";
        var (before, what) = await LoseRank0AndItsHolderAt(spec, job, moment, heldUntil: completed => completed.Contains(peerUpdate));

        await Recovers(spec, job, before, fresh: 2, fromCheckpoint: false, what);
        var restored = (await JobHistory.All(fixture, spec.JobId)).First(e => e.Kind == ClusterEventKind.JobRestored && e.Epoch > 1);
        Assert.True(restored.Step == before.CompletedSteps + 1, $"the job restored step {restored.Step}, not the updated state of step {before.CompletedSteps + 1}: {restored.Message}");
    }

    [Fact]
    public async Task Losing_the_silo_of_a_stage_s_last_copy_while_the_stage_restores_from_it_restores_the_newest_checkpoint()
    {
        var (spec, job, running) = await Start("double-last-copy");
        string stageSilo = StageSilo(running, Stage);
        await HolderSiloOffPrimary(spec, job);
        var before = await job.GetStatus();
        fixture.Trap.Arm(RestoreRead, spec.JobId, step: 0);
        string holderSilo;
        try
        {
            await Kill(stageSilo);
            var held = await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
            holderSilo = fixture.HostOf(held) ?? throw new InvalidOperationException($"The held read's holder {held} has no activation.");
            output.WriteLine($"lost {stageSilo} (s{Stage}) at step {before.CompletedSteps}; its restore reads the last copy at {holderSilo}: losing it");
            Assert.NotEqual(fixture.Cluster.Silos[0].Name, holderSilo);
            await Kill(holderSilo);
        }
        finally
        {
            fixture.Trap.Release();
        }

        await Recovers(spec, job, before, fresh: 2, fromCheckpoint: true, $"lost {stageSilo}, then {holderSilo} during s{Stage}'s restore from it, at step {before.CompletedSteps}");
    }

    [Fact]
    public async Task Losing_a_stage_s_new_silo_while_it_restores_costs_no_completed_step()
    {
        var (spec, job, running) = await Start("double-new-host");
        string stageSilo = StageSilo(running, Stage);
        // A fresh silo, the only one open: the lost stage is placed there and holds nothing else of the job yet.
        var replacement = await fixture.Cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [replacement.Name]);
        var before = await job.GetStatus();
        fixture.Trap.Arm(RestoreRead, spec.JobId, step: 0);
        try
        {
            await Kill(stageSilo);
            await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
            string? reader = fixture.HostOf(fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, Stage)));
            output.WriteLine($"lost {stageSilo} (s{Stage}) at step {before.CompletedSteps}; s{Stage} restores on {reader}: losing it");
            Assert.Equal(replacement.Name, reader);
            await fixture.Cluster.KillSiloAsync(replacement);
        }
        finally
        {
            fixture.Trap.Release();
        }

        await Recovers(spec, job, before, fresh: 1, fromCheckpoint: false, $"lost {stageSilo}, then {replacement.Name} (s{Stage}'s new silo) during its restore, at step {before.CompletedSteps}");
    }

    [Fact]
    public async Task Losing_two_stage_silos_at_once_whose_holders_survive_costs_no_completed_step()
    {
        var (spec, job, running) = await Start("double-two-hosts");
        string first = StageSilo(running, 0);
        string second = running.Placement.Select(p => p.SiloName).First(s => s != first);
        string[] victims = [first, second];
        // Each lost stage's copy must survive: a holder on either victim moves to the primary, which is never lost.
        foreach (var stage in running.Placement.Where(p => victims.Contains(p.SiloName)).Select(p => p.Stage).Distinct())
        {
            if (victims.Contains(HolderSilo(spec.JobId, stage)))
            {
                await SnapshotRedundancyCluster.MoveHolder(fixture, spec.JobId, stage, fixture.Cluster.Silos[0]);
                output.WriteLine($"holder of s{stage} moved to the primary");
            }
        }
        var before = await job.GetStatus();
        output.WriteLine($"losing {first} and {second} at once at step {before.CompletedSteps}; placement {string.Join(", ", before.Placement.Select(p => $"s{p.Stage}@{p.SiloName}"))}");
        await LoseTogether(spec.JobId, first, second);

        await Recovers(spec, job, before, fresh: 2, fromCheckpoint: false, $"lost {first} and {second} at once at step {before.CompletedSteps}");
    }

    /// <summary>
    /// Submits a job of 3 stages, or of <paramref name="replicas"/> data-parallel replicas of 2 stages (the job, the
    /// scheduler and the history on the primary, the stages elsewhere) and runs it past its second durable checkpoint
    /// (and between two), with s1's holder off the primary.
    /// </summary>
    private async Task<(JobSpec Spec, ITrainingJobGrain Job, JobStatus Running)> Start(string jobId, int replicas = 1)
    {
        var spec = replicas == 1
            ? TinyJob.Spec(jobId, stages: 3, steps: 5000, checkpointInterval: CheckpointInterval) with { SnapshotInterval = 1 }
            : TinyJob.Spec(jobId, stages: 2, steps: 5000, checkpointInterval: CheckpointInterval) with { SnapshotInterval = 1, MinReplicas = 1, MaxReplicas = replicas };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await SnapshotRedundancyCluster.KeepCoordinatorsOnPrimary(fixture, job);
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        await job.Submit(spec);
        // Between two checkpoints, so that a fall-back to the last one recomputes a step it must own up to.
        var running = await Eventually.Value(job.GetStatus, s => (s.State == JobState.Running && s.Replicas == replicas && s.LastCheckpointStep >= 2 * CheckpointInterval && s.CompletedSteps % CheckpointInterval != 0)
            || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to commit its second durable checkpoint and run a step past one");
        Assert.False(JobRuns.IsFinished(running), $"job is {running.State}: {running.Error}");
        output.WriteLine(await SnapshotRedundancyCluster.KeepHolderOffPrimary(fixture, spec.JobId, Stage, running));
        return (spec, job, running);
    }

    /// <summary>
    /// The silo of s1's holder, moved off the primary first if it is there — again, if it went back there since
    /// <see cref="Start"/> moved it (seen once in a CI run: its placement director places a holder anywhere away from its
    /// stage, the primary included).
    /// </summary>
    private async Task<string> HolderSiloOffPrimary(JobSpec spec, ITrainingJobGrain job)
    {
        output.WriteLine(await SnapshotRedundancyCluster.KeepHolderOffPrimary(fixture, spec.JobId, Stage, await job.GetStatus()));
        return HolderSilo(spec.JobId, Stage);
    }

    /// <summary>
    /// Holds <paramref name="moment"/> (of rank 0's s1) a few steps on, two past a checkpoint; waits until the job has
    /// counted the steps before it and <paramref name="heldUntil"/> holds of the calls done meanwhile; then loses s1's
    /// holder's silo — a fresh one that holds nothing else, so its loss alone starts no recovery — and right after it
    /// rank 0's s1 silo. Rank 1's s1 is first moved off rank 0's silo if they share it. Returns the status before the
    /// losses and what happened.
    /// </summary>
    private async Task<(JobStatus Before, string What)> LoseRank0AndItsHolderAt(JobSpec spec, ITrainingJobGrain job, CallMoment moment, Func<IReadOnlyCollection<string>, bool> heldUntil)
    {
        var (_, holderOnly, moved) = await SnapshotRedundancyCluster.Rank0ApartWithItsHolderAlone(fixture, job, await job.GetStatus(), spec.JobId, Stage);
        if (moved is not null) output.WriteLine(moved);

        // Two steps past a checkpoint: its commit, which asks the holder lost first, has had two steps' time to finish.
        long step = (await job.GetStatus()).CompletedSteps + 3;
        while (step % CheckpointInterval != 2) step++;
        fixture.Trap.Arm(moment, spec.JobId, step);
        string rank0;
        JobStatus before;
        try
        {
            await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
            await Eventually.True(() => Task.FromResult(heldUntil(fixture.Trap.Completed)), TimeSpan.FromSeconds(60),
                $"the calls of step {step} before the loss (done: {string.Join(", ", fixture.Trap.Completed)})");
            // Not waited for: the checkpoint's commit, which the job collects only at the next step boundary.
            before = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= step, TimeSpan.FromSeconds(20), $"the job to count step {step}'s state");
            rank0 = StageSilo(before, Stage);
            output.WriteLine($"{moment.Name} of step {step} held; losing {holderOnly.Name} (s{Stage}'s holder, nothing else), then {rank0} (r0/s{Stage}); " +
                $"placement {string.Join(", ", before.Placement.Select(p => $"r{p.Replica}/s{p.Stage}@{p.SiloName}"))}");
            Assert.NotEqual(rank0, before.Placement.Single(p => p.Replica == 1 && p.Stage == Stage).SiloName);
            await fixture.Cluster.KillSiloAsync(holderOnly);
            await Kill(rank0);
        }
        finally
        {
            fixture.Trap.Release();
        }
        return (before, $"lost {holderOnly.Name} (s{Stage}'s holder) and {rank0} (r0/s{Stage}) with {moment.Name} of step {step} held");
    }

    private static string StageSilo(JobStatus running, int stage) => running.Placement.Single(p => p.Replica == 0 && p.Stage == stage).SiloName;

    private string HolderSilo(string jobId, int stage) =>
        fixture.HostOf(SnapshotRedundancyCluster.Holder(fixture, jobId, stage)) ?? throw new InvalidOperationException($"s{stage}'s holder has no activation.");

    /// <summary>
    /// Loses <paramref name="silos"/> at once, as far as the job can tell: one right after the other (the testing
    /// host's kills side by side once left one silo answering for seconds), while any restore's read of s1's holder's copy
    /// is held back, so no recovery from the first loss reads a copy on a silo lost next. The held read then fails, as
    /// at a dead silo.
    /// </summary>
    private async Task LoseTogether(string jobId, params string[] silos)
    {
        fixture.Trap.Arm(RestoreRead, jobId, step: 0);
        try
        {
            foreach (string silo in silos) await Kill(silo);
        }
        finally
        {
            fixture.Trap.Release();
        }
    }

    private Task Kill(string silo)
    {
        Assert.NotEqual(fixture.Cluster.Silos[0].Name, silo);
        return fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, silo));
    }

    /// <summary>
    /// After the failures: the job recovers (<paramref name="fresh"/> silos started in place of those lost) and runs on;
    /// it restored the newest committed checkpoint and owned up to every recomputed step (<paramref name="fromCheckpoint"/>),
    /// or recomputed no counted step; and its losses are the reference trainer's. <paramref name="what"/> tells the failures.
    /// </summary>
    private async Task Recovers(JobSpec spec, ITrainingJobGrain job, JobStatus before, int fresh, bool fromCheckpoint, string what)
    {
        var history = await RecoverAndStop(spec, job, before.CompletedSteps, fresh);
        string story = Told(history, what);
        if (fromCheckpoint) RecoveryAssert.RestoredTheNewestCheckpoint(history, before.LastCheckpointStep ?? 0, before.CompletedSteps, story);
        else RecoveryAssert.CostNoCompletedStep(history, story);
        await AssertReferenceLosses(spec, job, before.CompletedSteps, story);
    }

    /// <summary>
    /// Starts <paramref name="fresh"/> silos in place of those lost, waits until the job runs 3 steps past
    /// <paramref name="countedBefore"/>, cancels it and returns its recorded history (kept on the primary).
    /// </summary>
    private async Task<ClusterEvent[]> RecoverAndStop(JobSpec spec, ITrainingJobGrain job, long countedBefore, int fresh)
    {
        for (int i = 0; i < fresh; i++) await fixture.Cluster.StartAdditionalSiloAsync();
        await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]);
        var after = await SnapshotRedundancyCluster.StepsPast(job, countedBefore, 3, "the job to recover and run 3 steps past where it was");
        Assert.False(JobRuns.IsFinished(after), $"job is {after.State}: {after.Error}");
        var end = await SnapshotRedundancyCluster.Reliably(job.Cancel, "the job to cancel");
        Assert.True(end.State is JobState.Cancelled or JobState.Running or JobState.Checkpointing, $"job is {end.State}: {end.Error}");
        return await JobHistory.All(fixture, spec.JobId);
    }

    private string Told(ClusterEvent[] history, string what)
    {
        string story = $"{what}: {JobHistory.Told(history.Where(e => e.StepsLost > 0 || e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored or ClusterEventKind.JobResumed))}";
        output.WriteLine(story);
        return story;
    }

    private static async Task AssertReferenceLosses(JobSpec spec, ITrainingJobGrain job, long countedBefore, string story)
    {
        var losses = await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history");
        Assert.True(losses.Count > countedBefore + 1, $"only {losses.Count} steps ran. {story}");
        Assert.Equal(TinyJob.ReferenceLosses(spec, losses.Count).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));
    }
}
