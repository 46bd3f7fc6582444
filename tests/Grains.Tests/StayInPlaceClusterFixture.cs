using Microsoft.Extensions.DependencyInjection;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Placement;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Tests;

/// <summary>Three silos whose snapshot holders' and stages' placements a test can pin to the silo that places them (<see cref="StayInPlaceDirector"/>).</summary>
public sealed class StayInPlaceClusterFixture() : ClusterFixture(3)
{
    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) => silo
        .AddPlacementDirector<SnapshotHolderPlacement>(services => Wrapped<SnapshotHolderPlacementDirector>(services))
        .AddPlacementDirector<AssignedNodePlacement>(services => Wrapped<NodeSiloPlacementDirector>(services));

    private static StayInPlaceDirector Wrapped<TDirector>(IServiceProvider services) where TDirector : IPlacementDirector =>
        new(ActivatorUtilities.CreateInstance<TDirector>(services), services.GetRequiredService<ILocalSiloDetails>(), services.GetRequiredService<MigrationParcels>());
}
