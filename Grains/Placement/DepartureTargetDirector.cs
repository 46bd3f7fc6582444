using Cluster.Grains.Checkpoints;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

/// <summary>
/// Wraps each of the product's placement directors (<c>TrainingClusterSiloExtensions</c>) and tells a departing grain's
/// migration where the wrapped director sends it (<see cref="MigrationParcels.Headed"/>): what <c>ElsewhereMigration</c>
/// reads to tell a move to another silo from a placement that keeps the grain where it is, and what the silo's
/// target watch reads to give up a parcel whose target died. One place tells it, so a director cannot forget to: a
/// departure no director told would stay forever (safe, but it would never move).
/// </summary>
internal sealed class DepartureTargetDirector(IPlacementDirector inner, MigrationParcels parcels) : IPlacementDirector
{
    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var chosen = await inner.OnAddActivation(strategy, target, context);
        parcels.Headed(target.GrainIdentity.ToString(), chosen);
        return chosen;
    }
}
