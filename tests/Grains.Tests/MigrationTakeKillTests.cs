using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// "A single failure costs no completed step" at a moment of a move: an operator drains a stage's node, the stage
/// migrates to another silo and its new activation takes its own snapshot copies from the old silo
/// (<c>MigratedSnapshots</c>), a chunk per call — and the old silo is lost in the middle of that. The copies left there
/// are gone with it (as they would be had the stage stayed), the move and the job's new epoch are cut short, and
/// whatever else of the job lived on that silo is lost too; the job must still recover from the copies elsewhere
/// without recomputing a counted step, and train the reference's losses bit for bit.
/// </summary>
public sealed class MigrationTakeKillTests(CallMomentClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CallMomentClusterFixture>
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 0)]
    public async Task Losing_the_old_silo_while_a_moved_stage_takes_its_copies_from_it_costs_no_completed_step(int replicas, int stage)
    {
        var spec = TinyJob.Spec($"take-kill-{replicas}-{stage}", stages: replicas == 1 ? 3 : 2, steps: 5000, checkpointInterval: 5000)
            with { MinReplicas = 1, MaxReplicas = replicas, SnapshotInterval = 1 };
        string primary = fixture.Cluster.Silos[0].Name;
        var (job, running) = await KillMoments.RunningOffThePrimary(fixture, spec, replicas);

        var placed = running.Placement.Single(p => p.Replica == 0 && p.Stage == stage);
        string victim = placed.SiloName;
        Assert.NotEqual(primary, victim);
        await LoseWhileHeld(job, spec, running, victim, $"lost {victim} while r0/s{stage} took its copies from it", async () => // its cordons and drain go with it
        {
            var (held, _) = await KillMoments.MoveAndHoldItsTake(fixture, job, 0, stage);
            Assert.Equal(placed.SiloName, fixture.HostOf(held));
            return $"r0/s{stage} left {placed.NodeId} at step {(await job.GetStatus()).CompletedSteps}; its take from {held} held; losing {victim}";
        });
    }

    /// <summary>
    /// The stage moves onto the silo of its own snapshot holder, and that silo is lost while the moved stage takes its
    /// copies from the silo it left. Had the holder stayed until the stage's configuration re-seeded it, this one loss
    /// would take both copies of the stage's state — the holder's, and the new activation's half-taken ones (found by
    /// <see cref="RandomTransferKillMomentTests"/>, seed 12: restored from the durable checkpoint, "s1: none"). The job
    /// makes room first (<c>ICheckpointShardGrain.MakeRoom</c>): the holder moves to a third silo before the stage moves.
    /// <para>
    /// <paramref name="holderBackThere"/>: the holder is back on that silo while the stage takes its copies — as one that
    /// could not make room (<c>KillDuringLeaveProcessTests</c>, seed 201: a stage moving off a leaving silo onto the silo
    /// of both holders, killed 0.24 s later). The one loss then takes the holder's copies and the stage's new activation;
    /// the stage's own copies wait in the parcel it left on its old silo, whose target is now dead. That parcel was given
    /// up as one no activation would come for, and the job restarted from its initial weights; now it names the stage's
    /// first holder as heir, and the holder, re-created empty, takes it over.
    /// </para>
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Losing_the_silo_a_stage_moves_onto_while_it_takes_its_copies_costs_no_completed_step(bool holderBackThere)
    {
        var (spec, job, running, placed, target, node, holder) = await StageAboutToMoveOntoItsHolder($"take-kill-onto-holder-{holderBackThere}".ToLowerInvariant());
        await LoseWhileHeld(job, spec, running, target, $"lost {target} while r0/s1 moved there and took its copies", async () =>
        {
            var (held, _) = await KillMoments.MoveAndHoldItsTake(fixture, job, 0, 1, onto: node);
            Assert.Equal(placed.SiloName, fixture.HostOf(held));
            string? holderNow = fixture.HostOf(holder);
            output.WriteLine($"s1's holder on {holderNow}");
            Assert.NotEqual(placed.SiloName, holderNow);
            // Made room, as a rule; a holder still on the target (its move found no other place, or the testing host
            // shows its old activation a moment longer: seen in batches) is the second case, which must cost nothing too.
            if (holderBackThere && holderNow != target)
            {
                await SnapshotRedundancyCluster.MoveHolder(fixture, spec.JobId, 1, SnapshotRedundancyCluster.Silo(fixture, target));
                Assert.Equal(target, fixture.HostOf(holder));
            }
            return $"r0/s1 left {placed.NodeId} for {target}; its take from {held} held; its holder on {fixture.HostOf(holder)}; losing {target}";
        });
    }

    /// <summary>
    /// The same move decided while the silo the stage moves onto — its holder's — is alive, and that silo lost before the
    /// stage is told: the holder's call to make room there hangs until the silo is declared dead
    /// (<c>KillDuringLeaveProcessTests</c> seed 203). Orleans finds no destination for a migration towards a silo that
    /// is not active and deactivates the grain without dehydrating it, so the stage's own copies — the only ones left —
    /// went, and the job restored its durable checkpoint. The stage now refuses such a move and stays, copies and all,
    /// for the job's recovery.
    /// </summary>
    [Fact]
    public async Task A_stage_told_to_move_onto_a_silo_lost_with_its_holder_keeps_its_copies_and_costs_no_completed_step()
    {
        var (spec, job, running, placed, target, node, holder) = await StageAboutToMoveOntoItsHolder("move-onto-dead");
        var holderId = holder.GetGrainId();
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        fixture.Held.Arm(call => call.TargetId == holderId && call.InterfaceMethod.Name == nameof(ICheckpointShardGrain.MakeRoom));
        try
        {
            foreach (string sibling in (await KillMoments.NodesOf(fixture, placed.SiloName)).Where(n => n != placed.NodeId)) await scheduler.Cordon(sibling);
            await scheduler.Uncordon(node);
            await scheduler.Drain(placed.NodeId);
            output.WriteLine($"r0/s1 about to move from {placed.NodeId} to {node}; held: {await fixture.Held.Reached.WaitAsync(TimeSpan.FromMinutes(2))}; losing {target}");
            var lost = SnapshotRedundancyCluster.Silo(fixture, target);
            var address = lost.SiloAddress;
            await fixture.Cluster.KillSiloAsync(lost);
            var membership = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterMembershipService>();
            await Eventually.True(() => Task.FromResult(membership.CurrentSnapshot.GetSiloStatus(address) == SiloStatus.Dead), TimeSpan.FromMinutes(1),
                $"{target} to be declared dead");
        }
        finally
        {
            fixture.Held.Fail(new SiloUnavailableException($"injected: the make-room call went to {target}, lost"));
        }
        await KillMoments.RecoversAtNoCost(fixture, output, job, spec, running.CompletedSteps + 1, $"lost {target}, where r0/s1 was to move and its holder was, before r0/s1 was told");
    }

    /// <summary>
    /// The same move, lost a moment earlier: while the holder makes room — it takes its copies from the silo the stage
    /// is about to move onto — that silo is lost. The holder's copies go with it; the stage, not yet moved, still holds
    /// its own, and must not leave them behind on its way to the dead silo.
    /// </summary>
    [Fact]
    public async Task Losing_the_silo_a_stage_moves_onto_while_its_holder_makes_room_there_costs_no_completed_step()
    {
        var (spec, job, running, placed, target, node, _) = await StageAboutToMoveOntoItsHolder("take-kill-making-room");
        await LoseTargetWhileItsHolderMakesRoom(job, spec, running, placed, target, node);
    }

    /// <summary>
    /// The same with 2 data-parallel replicas (found by <see cref="RandomTransferKillMomentTests"/>' move test, seed 2):
    /// rank 0's stage, drained towards its holder's silo, holds the only copy left once that silo is lost while the
    /// holder makes room there. The recovery then moves rank 0 off its drained node, or — with no node free for it —
    /// drops it and runs on rank 1 alone; either way rank 1's stage must restore from rank 0's copy. Before the fix the
    /// recovery offered rank 1 only the replicas that stayed on their node as peers, and released a dropped replica's
    /// stages (rank 0's copy with them) before restoring: the job restarted from its initial weights.
    /// </summary>
    [Fact]
    public async Task Data_parallel_replicas_lose_no_completed_step_when_the_silo_rank_0_moves_onto_is_lost_while_its_holder_makes_room_there()
    {
        var spec = TinyJob.Spec("take-kill-making-room-dp", stages: 2, steps: 5000, checkpointInterval: 5000) with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 };
        var (job, running) = await KillMoments.RunningOffThePrimary(fixture, spec, replicas: 2);
        var bound = await KillMoments.BoundForItsHolder(fixture, job, spec.JobId, 0, 1, free => free[0])
            ?? await KillMoments.BoundForItsHolder(fixture, job, spec.JobId, 0, 0, free => free[0])
            ?? throw new InvalidOperationException("No node is free on a silo besides the primary's and those of either stage's replicas.");
        var (placed, target, node) = bound;
        await LoseTargetWhileItsHolderMakesRoom(job, spec, running, placed, target, node);
    }

    /// <summary>Drains <paramref name="placed"/>'s node towards <paramref name="node"/> on its holder's silo <paramref name="target"/>, holds the holder's take there, and loses <paramref name="target"/>.</summary>
    private Task LoseTargetWhileItsHolderMakesRoom(ITrainingJobGrain job, JobSpec spec, JobStatus running, StagePlacement placed, string target, string node) =>
        LoseWhileHeld(job, spec, running, target, $"lost {target} while s{placed.Stage}'s holder made room there for r0/s{placed.Stage}", async () =>
        {
            var (held, _) = await KillMoments.MoveAndHoldItsTake(fixture, job, placed.Replica, placed.Stage, holdersTake: true, onto: node);
            Assert.Equal(target, fixture.HostOf(held));
            return $"r0/s{placed.Stage} about to leave {placed.NodeId} for {target}; its holder's take from {held} held; losing {target}";
        });

    /// <summary>
    /// A holder that moves — its new activation taking its copies over from the silo it left — answers only once they
    /// are across, and a take of a large state may take longer than the 5 s a recovery first gives each copy to answer.
    /// When the stage's own silo is lost meanwhile, the holder's copies are the only ones: the recovery must wait for
    /// them (it asks again, patiently, when without the missing answers it would fall back to stored state) rather than
    /// restart the job from its initial weights. The take is held for 8 s after the recovery began — a slow take, as a
    /// big stage's would be over a slow link (up to 10 s a 64 MiB chunk, <c>MigratedSnapshots.ChunkTimeout</c>).
    /// </summary>
    [Fact]
    public async Task Losing_a_stages_silo_while_its_holder_slowly_takes_its_copies_over_costs_no_completed_step()
    {
        var spec = TinyJob.Spec("take-slow-holder", stages: 3, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var (job, running) = await KillMoments.RunningOffThePrimary(fixture, spec, replicas: 1);
        var placed = running.Placement.Single(p => p.Stage == 1);
        var holder = SnapshotRedundancyCluster.Holder(fixture, spec.JobId, 1);
        string? holderSilo = fixture.HostOf(holder);
        var target = fixture.Cluster.Silos.First(s => s.Name != placed.SiloName && s.Name != holderSilo); // the primary, maybe: never lost
        fixture.Trap.Arm(new CallMoment("s1's holder moved, taking its copies from its old silo", nameof(IMigrationParcelGrain.TakeChunk), 0, 1, Holder: true), spec.JobId, 0);
        var moving = fixture.Cluster.MigrateAsync(holder, target.SiloAddress); // completes once the take is done
        try
        {
            var held = await fixture.Trap.Reached.WaitAsync(TimeSpan.FromMinutes(2));
            output.WriteLine($"s1's holder moving from {holderSilo} to {target.Name}; its take from {held} held; losing {placed.SiloName} (s1's)");
            await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, placed.SiloName));
            await Eventually.Value(job.GetStatus, s => s.State == JobState.Recovering || JobRuns.IsFinished(s), JobRuns.Deadline, "the job to recover");
            await Task.Delay(TimeSpan.FromSeconds(8)); // the fault itself: a take slower than the recovery's first question
        }
        finally
        {
            fixture.Trap.LetRun();
        }
        try
        {
            await moving.WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            output.WriteLine($"the holder's migration reported: {e.GetType().Name}: {e.Message}");
        }
        await KillMoments.RecoversAtNoCost(fixture, output, job, spec, running.CompletedSteps + 1, $"lost {placed.SiloName} while s1's holder slowly took its copies over");
    }

    /// <summary>
    /// Holds a take (<paramref name="hold"/> arms the trap, starts the move and checks where the held call is; it says
    /// what it held), loses <paramref name="victim"/> meanwhile, fails the held call, and checks that the job recovers at
    /// no cost (<see cref="KillMoments.RecoversAtNoCost"/>).
    /// </summary>
    private async Task LoseWhileHeld(ITrainingJobGrain job, JobSpec spec, JobStatus running, string victim, string what, Func<Task<string>> hold)
    {
        try
        {
            output.WriteLine(await hold());
            await fixture.Cluster.KillSiloAsync(SnapshotRedundancyCluster.Silo(fixture, victim));
        }
        catch
        {
            await SnapshotRedundancyCluster.OpenOnly(fixture, [.. fixture.Cluster.Silos.Skip(1).Select(s => s.Name)]); // no cordon left to the next case
            throw;
        }
        finally
        {
            fixture.Trap.Release();
        }
        await KillMoments.RecoversAtNoCost(fixture, output, job, spec, running.CompletedSteps + 1, what);
    }

    /// <summary>
    /// A 3-stage job running off the primary, with s1's holder moved to a silo (neither the primary nor s1's) that has a
    /// free node, and every node but s1's cordoned (that free one is opened right before the drain): drained, s1 can go
    /// only to its holder's silo (the target).
    /// </summary>
    private async Task<(JobSpec Spec, ITrainingJobGrain Job, JobStatus Running, StagePlacement Placed, string Target, string Node, ICheckpointShardGrain Holder)>
        StageAboutToMoveOntoItsHolder(string jobId)
    {
        var spec = TinyJob.Spec(jobId, stages: 3, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var (job, running) = await KillMoments.RunningOffThePrimary(fixture, spec, replicas: 1);
        var (placed, target, node) = await KillMoments.BoundForItsHolder(fixture, job, spec.JobId, 0, 1, free => free[0])
            ?? throw new InvalidOperationException($"No node is free on a silo besides the primary's and s1's, or s1 moved.");
        var holder = SnapshotRedundancyCluster.Holder(fixture, spec.JobId, 1);
        return (spec, job, running, placed, target, node, holder);
    }

    /// <summary>
    /// The take hangs instead — the old silo alive but its answer never coming (a frozen process, a partition that
    /// drops one direction): the stage gives it up after <c>MigratedSnapshots.ChunkTimeout</c> (10 s) and goes on
    /// without its own copies (its holders have them), and the move completes as a move — no recovery, no counted step
    /// lost. Before that bound the take waited out the call's 30 s response timeout, the job's call to the moved stage
    /// timed out first, and the job went through a recovery (measured: ≈ 50 s stalled).
    /// </summary>
    [Fact]
    public async Task A_moved_stage_whose_take_from_its_old_silo_hangs_goes_on_without_its_copies_and_costs_no_completed_step()
    {
        var spec = TinyJob.Spec("take-hang", stages: 3, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        var (job, running) = await KillMoments.RunningOffThePrimary(fixture, spec, replicas: 1);
        var placed = running.Placement.Single(p => p.Replica == 0 && p.Stage == 1);
        try
        {
            var (held, _) = await KillMoments.MoveAndHoldItsTake(fixture, job, 0, 1);
            Assert.Equal(placed.SiloName, fixture.HostOf(held));
            output.WriteLine($"r0/s1 left {placed.NodeId}; its take from {held} hangs");
            // Held until the job has counted 3 steps past the move: the take must give up on its own (MigratedSnapshots.ChunkTimeout).
            var after = await SnapshotRedundancyCluster.StepsPast(job, running.CompletedSteps + 1, 3, "the job to go on while the moved stage's take hangs");
            Assert.NotEqual(placed.NodeId, after.Placement.Single(p => p.Replica == 0 && p.Stage == 1).NodeId);
        }
        finally
        {
            fixture.Trap.Release();
            var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
            foreach (string node in await KillMoments.NodesOf(fixture, placed.SiloName)) await scheduler.Uncordon(node);
        }
        await KillMoments.RecoversAtNoCost(fixture, output, job, spec, running.CompletedSteps + 1, $"r0/s1's take from {placed.SiloName} hung", siloLost: false);
        var history = await JobHistory.All(fixture, spec.JobId);
        Assert.DoesNotContain(history, e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored);
    }
}
