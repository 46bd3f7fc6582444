using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// A stage's parcel orphaned by its migration's dead target is kept for the stage's first holder (its heir) — and a
/// graceful leave of the silo keeping it waits for it — only while the heir may need it: an heir that already holds
/// every snapshot in it has it freed at once (<c>MigrationParcelTargetWatch</c>), instead of after
/// <see cref="MigrationParcels.OrphanKeep"/> (seen in <c>KillDuringLeaveProcessTests</c>: a leave of 35.9 s, an orphan
/// kept its 30 s for an heir that held copies of its own and so never asked).
/// </summary>
public sealed class OrphanHeirTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly UnitImage s_unit = new(0, "embed", [1, 2, 3, 4]);

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
        parcels.Departing(stage);
        parcels.Headed(stage, lost.SiloAddress);
        parcels.Post([[s_unit], [s_unit]], stage, [new SnapshotRecord(6, 2, null), new SnapshotRecord(7, 2, null)], heirId);
        parcels.Departed(stage);
        var kept = Stopwatch.StartNew();

        // The watch looks every second; the keep is 30 s. Two thirds of it leaves a slow machine room, and no doubt.
        await Eventually.True(() => Task.FromResult(parcels.FindLeftFor(heirId) is null), MigrationParcels.OrphanKeep * 2 / 3,
            $"the orphaned parcel on {keeper.Name}, whose heir holds both its steps, to be freed");
        Assert.True(kept.Elapsed < MigrationParcels.OrphanKeep, $"freed after {kept.Elapsed.TotalSeconds:F1} s: its keep, not its heir's answer");
        Assert.Equal([6L, 7L], (await heir.GetSnapshotRecords()).Select(r => r.Step)); // the heir keeps its own
    }
}
