using Microsoft.Extensions.DependencyInjection;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Placement;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Tests;

/// <summary>
/// Three silos whose snapshot holders' and stages' placements a test can pin to the silo that places them
/// (<see cref="StayInPlaceDirector"/>), and a log kept in <see cref="Logs"/>.
/// </summary>
public sealed class StayInPlaceClusterFixture() : ClusterFixture(3)
{
    public SiloLogLines Logs { get; } = new();

    protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo, string siloName)
    {
        Logs.Add(silo, siloName);
        return silo;
    }

    protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) => silo
        .AddPlacementDirector<SnapshotHolderPlacement>(services => Wrapped<SnapshotHolderPlacementDirector>(services))
        .AddPlacementDirector<AssignedNodePlacement>(services => Wrapped<NodeSiloPlacementDirector>(services));

    /// <summary>The product's director, pinned when armed, told to departures as the product tells its own.</summary>
    private static DepartureTargetDirector Wrapped<TDirector>(IServiceProvider services) where TDirector : IPlacementDirector =>
        new(new StayInPlaceDirector(ActivatorUtilities.CreateInstance<TDirector>(services), services.GetRequiredService<ILocalSiloDetails>()),
            services.GetRequiredService<MigrationParcels>());
}
