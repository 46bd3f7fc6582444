using Cluster.Grains.Interfaces.Nodes;

namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>
/// Knows every node and its health and places jobs' stages on nodes. One per cluster: key
/// <see cref="SchedulerKeys.Default"/>.
/// </summary>
[Alias("cluster.ISchedulerGrain")]
public interface ISchedulerGrain : IGrainWithStringKey
{
    [Alias("Register")]
    Task Register(NodeCapabilities capabilities);

    /// <summary>Records a heartbeat; false when the node is unknown (it should register again).</summary>
    [Alias("Heartbeat")]
    Task<bool> Heartbeat(NodeHealth health);

    [Alias("GetNodes")]
    Task<IReadOnlyList<NodeInfo>> GetNodes();

    /// <summary>
    /// Places a job's stages (replacing any placement it had); a refusal says why. <paramref name="preferred"/> (node per
    /// stage, may be empty) keeps stages where they are when those nodes are still healthy: only the stages of failed
    /// nodes move.
    /// </summary>
    [Alias("Place")]
    Task<PlacementDecision> Place(string jobId, IReadOnlyList<StageDemand> stages, IReadOnlyList<string> preferred);

    /// <summary>Frees a job's nodes.</summary>
    [Alias("Release")]
    Task Release(string jobId);

    /// <summary>Node per stage of a job, empty when it holds no placement.</summary>
    [Alias("GetPlacement")]
    Task<IReadOnlyList<string>> GetPlacement(string jobId);
}
