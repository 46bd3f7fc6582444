using System.Collections.Concurrent;
using Cluster.Grains.Checkpoints;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Tests;

/// <summary>
/// A placement director that, for the grains a test arms, chooses the silo that places them — as a director whose view
/// lacks every other silo would (one that joined a moment ago is not yet among the compatible ones) — and tells the
/// departure so, as the product's directors do; every other placement goes to the wrapped director.
/// </summary>
internal sealed class StayInPlaceDirector(IPlacementDirector inner, ILocalSiloDetails local, MigrationParcels parcels) : IPlacementDirector
{
    private static readonly ConcurrentDictionary<GrainId, int> s_armed = new(); // how many placements each chose where it was placed

    /// <summary>From now on, placements of <paramref name="grain"/> choose the silo that places it.</summary>
    public static void Arm(GrainId grain) => s_armed[grain] = 0;

    public static void Disarm(GrainId grain) => s_armed.TryRemove(grain, out _);

    /// <summary>How many placements of armed <paramref name="grain"/> chose the silo that placed it.</summary>
    public static int Kept(GrainId grain) => s_armed.TryGetValue(grain, out int kept) ? kept : 0;

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        if (!s_armed.ContainsKey(target.GrainIdentity)) return inner.OnAddActivation(strategy, target, context);
        s_armed.AddOrUpdate(target.GrainIdentity, 1, (_, kept) => kept + 1);
        parcels.Headed(target.GrainIdentity.ToString(), local.SiloAddress);
        return Task.FromResult(local.SiloAddress);
    }
}
