using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

/// <summary>
/// Places a <see cref="SiloAddressPlacement"/> grain on the silo its key names, and fails — rather than placing it
/// elsewhere — when that silo is not an active member: what the grain serves lives in that process only.
/// </summary>
internal sealed class SiloAddressPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString() ?? "";
        SiloAddress address;
        try
        {
            address = SiloAddress.FromParsableString(key);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            throw new NodeUnavailableException($"Grain {target.GrainIdentity} is keyed by a silo address, and '{key}' is not one (e.g. 10.0.0.7:11111@123456789).");
        }
        bool active = membership.CurrentSnapshot.Members.TryGetValue(address, out var member) && member.Status == SiloStatus.Active
            && context.GetCompatibleSilos(target).Contains(address);
        return active
            ? Task.FromResult(address)
            : throw new NodeUnavailableException($"Silo {key} is not an active member of the cluster (active silos: {NodeSilos.ActiveNames(membership)}): what {target.GrainIdentity} serves went with it.");
    }
}
