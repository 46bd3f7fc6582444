using Cluster.Client.Data;

namespace Cluster.Client.Cli;

/// <summary>Job, node and silo names Tab offers; refreshed from the cluster, empty until connected.</summary>
internal sealed class CompletionIds
{
    public IReadOnlyList<string> Jobs { get; set; } = [];

    public IReadOnlyList<string> Nodes { get; set; } = [];

    /// <summary>Silo names (for the whole-server node actions), from the nodes' ids.</summary>
    public IReadOnlyList<string> Silos => [.. Nodes.Select(n => n.Split('/')[0]).Distinct(StringComparer.Ordinal)];

    public async Task LoadAsync(ClusterQueries queries, TimeSpan timeout)
    {
        var jobs = queries.Registry.GetAll().WaitAsync(timeout);
        var nodes = queries.Scheduler.GetNodes().WaitAsync(timeout);
        Jobs = await jobs;
        Nodes = [.. (await nodes).Select(n => n.Capabilities.NodeId)];
    }
}
