using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// A stage's first snapshot holder is heir to the parcel of copies the stage leaves on its old silo when it moves
/// (<c>MigrationParcels</c>' second invariant): a holder that holds nothing and is asked for its copies finds such a
/// parcel on any live silo — also one posted after it last looked, on its very next ask (<c>KillDuringLeaveProcessTests</c>
/// seed 201: the holder, moving off the silo that died, came up empty 0.2 s before the stage's failed move left its
/// parcel; seed 230: it had looked 0.9 s before the recovery asked) — takes it over, and frees it only when no
/// activation of the stage will come for it.
/// </summary>
public sealed class SnapshotHolderHeirTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    private static readonly UnitImage s_unit = new(0, "embed", [1, 2, 3, 4]) { MoreChunks = [[5, 6]] };

    [Fact]
    public async Task An_empty_holder_takes_a_copy_of_its_stages_parcel_posted_after_it_first_looked_and_leaves_it_for_the_stage()
    {
        var (holder, heir, stage, parcels) = Parties("heir-late");
        Assert.Empty(await holder.GetSnapshotRecords()); // looked once: nothing yet

        // The very next ask finds it, however soon after the first: the recovery's ask may be the only one (seed 230:
        // a holder that looked at most every 2 s had looked 0.9 s before the recovery asked, and answered "none").
        var parcel = parcels.Post([[s_unit], [s_unit]], stage, [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 2, 1.25)], heir);
        Assert.Equal([6L, 7L], (await holder.GetSnapshotRecords()).Select(r => r.Step));
        var header = Assert.Single((await holder.GetSnapshot(7))!);
        Assert.Equal([1, 2, 3, 4], header.Image); // the first chunk comes with the header, the others a call each
        Assert.Equal([5, 6], await holder.GetSnapshotChunk(7, header.UnitIndex, 1));

        // The stage's move may still complete (its target is alive): its new activation takes the parcel, not the holder.
        var left = parcels.FindLeftFor(heir);
        Assert.True(left is { StillAwaited: true } && left.Parcel == parcel, "the holder freed a parcel the stage's new activation may still take");
        parcels.Drop(parcel);
    }

    [Fact]
    public async Task An_empty_holder_takes_over_its_stages_orphaned_parcel_and_frees_it()
    {
        var (holder, heir, stage, parcels) = Parties("heir-orphan");
        var dead = SiloAddress.New(System.Net.IPAddress.Loopback, 1, 1); // no silo: a target declared dead
        var parcel = parcels.LeaveHeadedTo(stage, dead, [[s_unit]], [new SnapshotRecord(11, 4, 0.5)], heir);
        Assert.Equal((0, 1), parcels.TargetsLost(new HashSet<SiloAddress> { dead }));

        Assert.Equal([11L], (await holder.GetSnapshotRecords()).Select(r => r.Step));
        Assert.Null(parcels.FindLeftFor(heir)); // taken over: a leave waits for it no longer
        Assert.Null(parcels.Chunk(parcel, 0, 0, 0));
    }

    /// <summary>
    /// An orphan is kept for its heir — and a graceful leave of the silo keeping it waits for it — only while the heir
    /// may need it: one whose heir already holds every snapshot in it is freed at once (<c>MigrationParcelTargetWatch</c>),
    /// not after <see cref="MigrationParcels.OrphanKeep"/> (seen in <c>KillDuringLeaveProcessTests</c>: a leave of 35.9 s,
    /// an orphan kept its 30 s for an heir that held copies of its own and so never asked). Loses a silo of the cluster.
    /// </summary>
    [Fact]
    public async Task An_orphaned_stage_parcel_whose_heir_already_holds_its_snapshots_is_freed_well_before_its_keep_ends()
    {
        InProcessSiloHandle keeper = fixture.Cluster.Silos[1], lost = fixture.Cluster.Silos[2];
        await fixture.Cluster.KillSiloAsync(lost);
        var membership = keeper.ServiceProvider.GetRequiredService<IClusterMembershipService>();
        await Eventually.True(() => Task.FromResult(membership.CurrentSnapshot.GetSiloStatus(lost.SiloAddress) == SiloStatus.Dead),
            TimeSpan.FromMinutes(1), $"{keeper.Name} to see {lost.Name} declared dead");

        // The heir holds steps 6 and 7 of epoch 2 (called from a silo: clients may not call a holder).
        var grains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var heir = grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard("orphan-held", 1));
        await heir.Accept(2, 6, 1, [s_unit], durable: false);
        await heir.Accept(2, 7, 1, [s_unit], durable: false);

        // The stage's parcel of the same steps, left on the keeper by a move towards the silo that died.
        string stage = grains.GetGrain<IPipelineStageGrain>(StageKeys.Stage("orphan-held", 0, 1)).GetGrainId().ToString(), heirId = heir.GetGrainId().ToString();
        var parcels = keeper.ServiceProvider.GetRequiredService<MigrationParcels>();
        parcels.LeaveHeadedTo(stage, lost.SiloAddress, [[s_unit], [s_unit]], [new SnapshotRecord(6, 2, null), new SnapshotRecord(7, 2, null)], heirId);
        var kept = Stopwatch.StartNew();

        // The watch looks every second; the keep is 30 s. Two thirds of it leaves a slow machine room, and no doubt.
        await Eventually.True(() => Task.FromResult(parcels.FindLeftFor(heirId) is null), MigrationParcels.OrphanKeep * 2 / 3,
            $"the orphaned parcel on {keeper.Name}, whose heir holds both its steps, to be freed");
        Assert.True(kept.Elapsed < MigrationParcels.OrphanKeep, $"freed after {kept.Elapsed.TotalSeconds:F1} s: its keep, not its heir's answer");
        Assert.Equal([6L, 7L], (await heir.GetSnapshotRecords()).Select(r => r.Step)); // the heir keeps its own
    }

    /// <summary>
    /// A stage's parcel that its new activation never takes while its target lives (the activation could not register
    /// in the grain directory: <c>KillDuringLeaveProcessTests</c> seed 230, a leave held 81 s) is freed by the keeping
    /// silo's watch once its heir holds a later step of a newer epoch — the job recovered and went on without it — well
    /// before <see cref="MigrationParcels.Keep"/>.
    /// </summary>
    [Fact]
    public Task An_unclaimed_stage_parcel_whose_heir_has_moved_past_it_is_freed_well_before_its_keep_ends() =>
        UnclaimedParcelIsFreed("unclaimed-passed", epoch: 3, (grains, heir) => grains.GetGrain<IPipelineStageGrain>(StageKeys.Stage("unclaimed-passed", 0, 1)).GetGrainId().ToString(), withHeir: true);

    /// <summary>The same for a holder's own parcel, once the holder, active elsewhere, holds a later step (the job went on).</summary>
    [Fact]
    public Task An_unclaimed_holder_parcel_whose_holder_holds_a_later_step_is_freed_well_before_its_keep_ends() =>
        UnclaimedParcelIsFreed("unclaimed-held", epoch: 2, (_, holder) => holder, withHeir: false);

    /// <summary>
    /// Holder 0 of stage 1 of <paramref name="jobId"/> holds steps 8 and 9 of <paramref name="epoch"/>; a parcel of steps
    /// 6 and 7 of epoch 2 — <paramref name="owner"/>'s, named after the holder's id, with the holder as heir when
    /// <paramref name="withHeir"/> — is left on another silo, headed to a live one; the keeping silo's watch must free it.
    /// </summary>
    private async Task UnclaimedParcelIsFreed(string jobId, long epoch, Func<IGrainFactory, string, string> owner, bool withHeir)
    {
        InProcessSiloHandle keeper = fixture.Cluster.Silos[^1], target = fixture.Cluster.Silos[0];
        var grains = target.ServiceProvider.GetRequiredService<IGrainFactory>();
        var holder = grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, 1));
        await holder.Accept(epoch, 8, 1, [s_unit], durable: false); // the job went on
        await holder.Accept(epoch, 9, 1, [s_unit], durable: false);

        string holderId = holder.GetGrainId().ToString();
        var parcels = keeper.ServiceProvider.GetRequiredService<MigrationParcels>();
        parcels.LeaveHeadedTo(owner(grains, holderId), target.SiloAddress, [[s_unit], [s_unit]],
            [new SnapshotRecord(6, 2, null), new SnapshotRecord(7, 2, null)], withHeir ? holderId : null);
        var kept = Stopwatch.StartNew();

        // Looked for as the holder would (a read of a chunk would touch it, and a touched parcel is not unclaimed).
        await Eventually.True(() => Task.FromResult(parcels.FindLeftFor(holderId) is null), MigrationParcels.Keep / 2,
            $"the unclaimed parcel on {keeper.Name}, which the job went on without, to be freed");
        Assert.True(kept.Elapsed < MigrationParcels.Keep, $"freed after {kept.Elapsed.TotalSeconds:F1} s: its keep, not its holder's answer");
        Assert.Equal([8L, 9L], (await holder.GetSnapshotRecords()).Select(r => r.Step)); // the holder keeps its own
    }

    /// <summary>Holder 0 of stage 1 of <paramref name="jobId"/> (called from a silo: clients may not), its grain id, its stage's (replica 0) and another silo's parcels.</summary>
    private (ICheckpointShardGrain Holder, string Heir, string Stage, MigrationParcels Parcels) Parties(string jobId)
    {
        InProcessSiloHandle caller = fixture.Cluster.Silos[0], other = fixture.Cluster.Silos[^1];
        var grains = caller.ServiceProvider.GetRequiredService<IGrainFactory>();
        var holder = grains.GetGrain<ICheckpointShardGrain>(StageKeys.Shard(jobId, 1));
        string stage = grains.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, 0, 1)).GetGrainId().ToString();
        return (holder, holder.GetGrainId().ToString(), stage, other.ServiceProvider.GetRequiredService<MigrationParcels>());
    }
}
