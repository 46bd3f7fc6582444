using System.Collections.Concurrent;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Tests;

/// <summary>
/// A placement director that, for the grains a test arms, chooses the silo that places them — as a director whose view
/// lacks every other silo would (one that joined a moment ago is not yet among the compatible ones); every other
/// placement goes to the wrapped director. The fixture runs it inside the product's <c>DepartureTargetDirector</c>, as
/// the product runs its own directors, so a departure learns where either one sends it.
/// </summary>
internal sealed class StayInPlaceDirector(IPlacementDirector inner, ILocalSiloDetails local) : IPlacementDirector
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
        return Task.FromResult(local.SiloAddress);
    }
}
