namespace Cluster.Client.Views;

/// <summary><c>version</c>: this clusterctl's build, and the cluster's silos when it answers.</summary>
internal sealed record VersionView(ClientVersionView Client, ClusterVersionView? Cluster, string? ClusterError);

internal sealed record ClientVersionView(string Version, string Framework, string Os);

/// <summary>
/// The silos in the cluster's membership. <see cref="Build"/> is null: no grain interface exposes the silos' build
/// yet, so the console does not guess it.
/// </summary>
internal sealed record ClusterVersionView(IReadOnlyList<SiloVersionView> Silos, string? Build);

internal sealed record SiloVersionView(string Name, string Address, string Status, DateTimeOffset StartedAt);
