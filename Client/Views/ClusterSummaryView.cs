namespace Cluster.Client.Views;

/// <summary><c>status</c>: silos, nodes by state and jobs by state.</summary>
internal sealed record ClusterSummaryView(
    IReadOnlyList<SiloView> Silos,
    int Nodes,
    IReadOnlyDictionary<string, int> NodesByState,
    int CordonedNodes,
    int DrainingNodes,
    int Stragglers,
    int Jobs,
    IReadOnlyDictionary<string, int> JobsByState,
    IReadOnlyList<JobView> ActiveJobs);
