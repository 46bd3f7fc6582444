using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>Finds silos by name and status in the current membership view.</summary>
internal static class NodeSilos
{
    public static SiloAddress? FindActive(IClusterMembershipService membership, string siloName, SiloAddress[] compatible) =>
        ActiveNamed(membership, siloName).FirstOrDefault(compatible.Contains);

    /// <summary>Whether a silo named <paramref name="siloName"/> is an active member in the current membership view.</summary>
    public static bool IsActive(IClusterMembershipService membership, string siloName) => ActiveNamed(membership, siloName).Any();

    /// <summary>The silos the current membership view has declared dead.</summary>
    public static HashSet<SiloAddress> Dead(IClusterMembershipService membership) =>
        [.. membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress)];

    private static IEnumerable<SiloAddress> ActiveNamed(IClusterMembershipService membership, string siloName) =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active && m.Name == siloName).Select(m => m.SiloAddress);

    public static string NameOf(IClusterMembershipService membership, SiloAddress silo) =>
        membership.CurrentSnapshot.Members.TryGetValue(silo, out var member) ? member.Name : silo.ToString();

    public static string ActiveNames(IClusterMembershipService membership) =>
        string.Join(", ", membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).Order());
}
