using Microsoft.Extensions.DependencyInjection;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Tests;

/// <summary>
/// <c>ElsewhereMigration</c>'s invariant, for a holder and a stage: a snapshot holder asked to make room for its moving stage, whose placement
/// then keeps it on the silo it is on, stays there with its copies and says it did not move. Orleans, left to place it
/// during its deactivation, would have deactivated it without dehydrating it: its copies gone, and the job told it had
/// moved off the silo its stage was about to take ("moved off … before its stage moves there", seen in
/// <c>MigrationTakeKillTests</c> batches).
/// </summary>
public sealed class StaysInPlaceTests(StayInPlaceClusterFixture fixture) : IClassFixture<StayInPlaceClusterFixture>
{
    private static readonly UnitImage s_unit = new(0, "embed", [1, 2, 3, 4]);

    [Fact]
    public async Task A_holder_whose_placement_keeps_it_where_it_is_stays_with_its_copies_and_says_it_did_not_move()
    {
        // Called from a silo: clients may not call a holder.
        var grains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var holder = grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("stays-in-place", 0));
        await holder.Accept(1, 5, 0, [s_unit], durable: false);
        string here = fixture.HostOf(holder) ?? throw new InvalidOperationException("the holder has no activation after a copy reached it");

        StayInPlaceDirector.Arm(holder.GetGrainId());
        try
        {
            Assert.Null(await MakeRoom(holder, here)); // "moved": the job would move the stage onto the holder's silo
            long[] kept = await holder.GetSnapshotSteps();
            Assert.Equal([5L], kept);
            Assert.Equal(here, fixture.HostOf(holder));
        }
        finally
        {
            StayInPlaceDirector.Disarm(holder.GetGrainId());
        }

        // Once a placement may choose another silo, it moves there with its copies.
        long[]? carried = await MakeRoom(holder, here);
        Assert.Equal([5L], carried ?? []);
        var steps = await Eventually.Value(holder.GetSnapshotSteps, s => s.Length > 0 && fixture.HostOf(holder) is { } now && now != here,
            TimeSpan.FromMinutes(1), $"the holder to answer from a silo other than {here}");
        Assert.Equal([5L], steps);
    }

    /// <summary>
    /// The same for a holder a copy finds on its stage's silo: asked to take the copy there, with a placement that keeps
    /// it, it takes the copy where it is (two copies on one silo until the next one finds it a place, not one copy gone)
    /// rather than being deactivated with its copies for a move it did not make; the copy after that, with placement
    /// free again, moves it with both.
    /// </summary>
    [Fact]
    public async Task A_holder_a_copy_finds_on_its_stages_silo_takes_the_copy_where_it_is_while_its_placement_keeps_it_there()
    {
        var grains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var holder = grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("stays-in-place-accept", 0));
        await holder.Accept(1, 5, 0, [s_unit], durable: false);
        string here = fixture.HostOf(holder) ?? throw new InvalidOperationException("the holder has no activation after a copy reached it");

        StayInPlaceDirector.Arm(holder.GetGrainId());
        try
        {
            await AcceptFromStageOn(holder, 6, here); // its stage on the holder's silo: it would move, but nowhere else is chosen
            Assert.True(StayInPlaceDirector.Kept(holder.GetGrainId()) >= 1, "the holder's placement was never asked: the copy did not find it misplaced");
            long[] kept = await holder.GetSnapshotSteps();
            Assert.Equal([5L, 6L], kept);
            Assert.Equal(here, fixture.HostOf(holder));
        }
        finally
        {
            StayInPlaceDirector.Disarm(holder.GetGrainId());
        }

        // The next copy finds it misplaced again, and now it moves — with the copies it kept.
        await Assert.ThrowsAsync<SnapshotHolderMisplacedException>(() => AcceptFromStageOn(holder, 7, here));
        var steps = await Eventually.Value(holder.GetSnapshotSteps, s => s.Length > 0 && fixture.HostOf(holder) is { } now && now != here,
            TimeSpan.FromMinutes(1), $"the holder to answer from a silo other than {here}");
        Assert.Equal([5L, 6L], steps);
    }

    /// <summary>
    /// The same for a stage an operator's drain moves to another silo: while no placement sends it elsewhere it stays
    /// where it is, copies and all, and the job asks again; once one does, it moves with its copies — no recovery, the
    /// reference's losses bit for bit. Left to Orleans, the stage would have been deactivated at the first try.
    /// </summary>
    [Fact]
    public async Task A_stage_whose_placement_keeps_it_where_it_is_stays_and_moves_with_its_copies_once_it_can()
    {
        var spec = TinyJob.Spec("stage-stays-in-place", stages: 1, steps: 40, checkpointInterval: 40) with { SnapshotInterval = 1 };
        string from = fixture.Cluster.Silos[1].Name, to = fixture.Cluster.Silos[2].Name;
        var (job, running) = await SnapshotRedundancyCluster.SubmitOn(fixture, spec, [from], 3);
        var placed = Assert.Single(running.Placement);
        Assert.Equal(from, placed.SiloName);
        var stage = fixture.Client.GetGrain<IPipelineStageGrain>(StageKeys.Stage(spec.JobId, 0, 0)).GetGrainId();

        StayInPlaceDirector.Arm(stage);
        try
        {
            await SnapshotRedundancyCluster.OpenOnly(fixture, [to]);
            await fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Drain(placed.NodeId);
            await Eventually.True(() => Task.FromResult(StayInPlaceDirector.Kept(stage) >= 3), TimeSpan.FromMinutes(1),
                $"the drained stage's placement to keep it on {from} three times");
            Assert.Equal(from, fixture.HostOf(stage)); // the same activation, with its copies: not deactivated for a move it did not make
        }
        finally
        {
            StayInPlaceDirector.Disarm(stage);
        }

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(4), "the job to move and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.Equal(to, Assert.Single(done.Placement).SiloName);
        Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits),
            (await SnapshotRedundancyCluster.Reliably(job.GetLossHistory, "the loss history")).Select(BitConverter.DoubleToInt64Bits));
        Assert.Empty(await SnapshotRedundancyCluster.Recorded(fixture, spec.JobId, ClusterEventKind.JobRestored));
    }

    /// <summary>Sends <paramref name="holder"/> a copy of <paramref name="step"/> from a stage on <paramref name="stageSilo"/>, with the hint the stage gives.</summary>
    internal static async Task AcceptFromStageOn(ICheckpointShardGrain holder, long step, string stageSilo)
    {
        RequestContext.Set(PlacementContextKeys.AvoidSilo, stageSilo);
        try
        {
            await holder.Accept(1, step, 0, [s_unit], durable: false);
        }
        finally
        {
            RequestContext.Remove(PlacementContextKeys.AvoidSilo);
        }
    }

    /// <summary>Asks <paramref name="holder"/> to make room on <paramref name="stageSilo"/>, with the hint the job gives.</summary>
    private static async Task<long[]?> MakeRoom(ICheckpointShardGrain holder, string stageSilo)
    {
        RequestContext.Set(PlacementContextKeys.AvoidSilo, stageSilo);
        try
        {
            return await holder.MakeRoom(1, stageSilo);
        }
        finally
        {
            RequestContext.Remove(PlacementContextKeys.AvoidSilo);
        }
    }
}
