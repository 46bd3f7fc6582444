using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>Finds active silos by name in the current membership view.</summary>
internal static class NodeSilos
{
    public static SiloAddress? FindActive(IClusterMembershipService membership, string siloName, SiloAddress[] compatible)
    {
        foreach (var member in membership.CurrentSnapshot.Members.Values)
            if (member.Status == SiloStatus.Active && member.Name == siloName && compatible.Contains(member.SiloAddress))
                return member.SiloAddress;
        return null;
    }

    /// <summary>Whether a silo named <paramref name="siloName"/> is an active member in the current membership view.</summary>
    public static bool IsActive(IClusterMembershipService membership, string siloName) =>
        membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && m.Name == siloName);

    public static string NameOf(IClusterMembershipService membership, SiloAddress silo) =>
        membership.CurrentSnapshot.Members.TryGetValue(silo, out var member) ? member.Name : silo.ToString();

    public static string ActiveNames(IClusterMembershipService membership) =>
        string.Join(", ", membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).Order());
}
