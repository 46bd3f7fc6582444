using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// A stage's first snapshot holder is heir to the parcel of copies the stage leaves on its old silo when it moves
/// (<c>MigrationParcels</c>' second invariant): a holder that holds nothing and is asked for its copies finds such a
/// parcel on any live silo — also one posted after it first looked (<c>KillDuringLeaveProcessTests</c> seed 201: the
/// holder, moving off the silo that died, came up empty 0.2 s before the stage's failed move left its parcel) — takes
/// it over, and frees it only when no activation of the stage will come for it.
/// </summary>
public sealed class SnapshotHolderHeirTests(FourSiloClusterFixture fixture) : IClassFixture<FourSiloClusterFixture>
{
    private static readonly UnitImage s_unit = new(0, "embed", [1, 2, 3, 4]) { MoreChunks = [[5, 6]] };

    [Fact]
    public async Task An_empty_holder_takes_a_copy_of_its_stages_parcel_posted_after_it_first_looked_and_leaves_it_for_the_stage()
    {
        var (holder, heir, stage, parcels) = Parties("heir-late");
        Assert.Empty(await holder.GetSnapshotRecords()); // looked once: nothing yet

        var parcel = parcels.Post([[s_unit], [s_unit]], stage, [new SnapshotRecord(6, 2, 1.5), new SnapshotRecord(7, 2, 1.25)], heir);
        var held = await Eventually.Value(holder.GetSnapshotRecords, records => records.Length > 0, TimeSpan.FromMinutes(1),
            "the empty holder to find its stage's parcel posted after it first looked");
        Assert.Equal([6L, 7L], held.Select(r => r.Step));
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
        parcels.Departing(stage);
        parcels.Headed(stage, dead);
        var parcel = parcels.Post([[s_unit]], stage, [new SnapshotRecord(11, 4, 0.5)], heir);
        parcels.Departed(stage);
        Assert.Equal((0, 1), parcels.TargetsLost(new HashSet<SiloAddress> { dead }));

        Assert.Equal([11L], (await holder.GetSnapshotRecords()).Select(r => r.Step));
        Assert.Null(parcels.FindLeftFor(heir)); // taken over: a leave waits for it no longer
        Assert.Null(parcels.Chunk(parcel, 0, 0, 0));
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
