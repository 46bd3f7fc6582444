using Microsoft.Extensions.DependencyInjection;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Tests;

/// <summary>Three silos whose snapshot holders' placements a test can pin to the silo that places them (<see cref="StayInPlaceDirector"/>).</summary>
public sealed class StayInPlaceClusterFixture() : ClusterFixture(3)
{
    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) =>
        silo.AddPlacementDirector<SnapshotHolderPlacement>(services => new StayInPlaceDirector(
            ActivatorUtilities.CreateInstance<SnapshotHolderPlacementDirector>(services), services.GetRequiredService<ILocalSiloDetails>(),
            services.GetRequiredService<MigrationParcels>()));
}
