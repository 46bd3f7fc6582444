namespace Cluster.Client.Config;

/// <summary>The clusterctl config file: named clusters and the one used when <c>--context</c> is not given.</summary>
internal sealed record ClusterctlConfig
{
    public string? CurrentContext { get; init; }

    public Dictionary<string, ClusterContext> Contexts { get; init; } = new(StringComparer.Ordinal);
}
