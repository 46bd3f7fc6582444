using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>
/// One GPU (or CPU device slot). Key: node id, "&lt;silo name&gt;/&lt;device&gt;", e.g. "gpu-host-7/cuda0". Always
/// activated on the silo of its own machine; a call for a node whose silo is gone fails and is never re-created
/// elsewhere.
/// </summary>
[Alias("cluster.INodeGrain")]
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>Calibrates the device, registers with the scheduler and starts heartbeats. Idempotent.</summary>
    [Alias("Start")]
    Task<NodeCapabilities> Start();

    [Alias("GetHealth"), OperatorFacing(OperatorRole.Viewer)]
    Task<NodeHealth> GetHealth();

    /// <summary>The silo this node lives on (for placement checks and tools).</summary>
    [Alias("GetSiloName"), OperatorFacing(OperatorRole.Viewer)]
    Task<string> GetSiloName();
}
