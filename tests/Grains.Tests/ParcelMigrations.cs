using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Tests;

/// <summary>What a grain's migration does to the parcels of the silo it leaves, in the product's order.</summary>
internal static class ParcelMigrations
{
    /// <summary>
    /// Grain <paramref name="key"/> departs, a placement heads it to <paramref name="target"/>, its dehydration posts
    /// its parcel (<paramref name="records"/>, <paramref name="heir"/>) and its departure ends; returns the parcel's id.
    /// </summary>
    public static Guid LeaveHeadedTo(this MigrationParcels parcels, string key, SiloAddress target, IReadOnlyList<IReadOnlyList<UnitImage>> snapshots,
        IReadOnlyList<SnapshotRecord>? records = null, string? heir = null)
    {
        parcels.Departing(key);
        parcels.Headed(key, target);
        var parcel = parcels.Post(snapshots, key, records, heir);
        parcels.Departed(key);
        return parcel;
    }
}
