namespace Cluster.Client.Views;

/// <summary><c>version</c>: this clusterctl's build, and the cluster's silos when it answers.</summary>
internal sealed record VersionView(ClientVersionView Client, ClusterVersionView? Cluster, string? ClusterError);

internal sealed record ClientVersionView(string Version, string Framework, string Os);

/// <summary>
/// The silos in the cluster's membership, each with the build it reports. <see cref="Build"/> is the build they all run
/// ("version+commit"), "mixed" while they differ (a rolling upgrade), null when no silo answered.
/// </summary>
internal sealed record ClusterVersionView(IReadOnlyList<SiloVersionView> Silos, string? Build);

/// <summary>One silo: membership facts, then its own build (<see cref="BuildError"/> says why it is missing).</summary>
internal sealed record SiloVersionView(string Name, string Address, string Status, DateTimeOffset StartedAt,
    string? Version = null, string? Commit = null, string? Framework = null, string? BuildError = null)
{
    /// <summary>"1.0.0+abc123", or the version alone when the build had no commit.</summary>
    public string? Build => Version is null ? null : Commit is null ? Version : $"{Version}+{Commit}";
}
