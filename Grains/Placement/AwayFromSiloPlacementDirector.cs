using Cluster.Kernels.Model;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

internal sealed class AwayFromSiloPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        string? avoid = target.RequestContextData?.TryGetValue(PlacementContextKeys.AvoidSilo, out var value) == true ? value as string : null;
        var candidates = compatible
            .Where(s => avoid is null || NodeSilos.NameOf(membership, s) != avoid)
            .OrderBy(s => NodeSilos.NameOf(membership, s), StringComparer.Ordinal)
            .ToArray();
        if (candidates.Length == 0) candidates = compatible.OrderBy(s => s.ToString(), StringComparer.Ordinal).ToArray();
        if (candidates.Length == 0)
            throw new NodeUnavailableException($"No silo can host {target.GrainIdentity}.");
        // A stable hash (string.GetHashCode is randomised per process) keeps a shard's home the same across silos.
        long hash = 0;
        foreach (char c in target.GrainIdentity.Key.ToString()!) hash = hash * 31 + c;
        int index = (int)(SeedMixer.Mix((ulong)hash) % (ulong)candidates.Length);
        return Task.FromResult(candidates[index]);
    }
}
