using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Checkpoints;

/// <summary>Hands out this silo's <see cref="MigrationParcels"/> a chunk per call (see <see cref="IMigrationParcelGrain"/>).</summary>
[SiloAddressPlacement]
internal sealed class MigrationParcelGrain(MigrationParcels parcels, IClusterMembershipService membership) : Grain, IMigrationParcelGrain
{
    public Task<byte[]?> TakeChunk(Guid parcel, int snapshot, int unitIndex, int index) => Task.FromResult(parcels.Chunk(parcel, snapshot, unitIndex, index));

    /// <summary>The asker may know of a death this silo's watch has not acted on yet: membership is read now.</summary>
    public Task<LeftParcel?> FindLeftFor(string grainId) =>
        Task.FromResult(parcels.FindLeftFor(grainId, NodeSilos.Dead(membership)));

    public Task Drop(Guid parcel)
    {
        parcels.Drop(parcel);
        return Task.CompletedTask;
    }
}
