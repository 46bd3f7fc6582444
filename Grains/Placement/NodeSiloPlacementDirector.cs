using Cluster.Grains.Interfaces.Nodes;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

/// <summary>
/// Places node grains (<see cref="NodeSiloPlacement"/>) and stage grains (<see cref="AssignedNodePlacement"/>) on their
/// node's silo, and fails — rather than placing elsewhere — when that silo is not an active member: a node's compute
/// cannot move to another machine. A stage migrating off this silo (a drain) is placed here; where it heads is told to its
/// departure by the wrapper every director of the product runs in (<see cref="DepartureTargetDirector"/>).
/// </summary>
internal sealed class NodeSiloPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string? nodeId = strategy is NodeSiloPlacement
            ? target.GrainIdentity.Key.ToString()
            : target.RequestContextData?.TryGetValue(PlacementContextKeys.Node, out var node) == true ? node as string : null;
        if (nodeId is null)
            throw new NodeUnavailableException($"Grain {target.GrainIdentity} has no node to run on: it is activated only by its job, which names the node (a late message from before a failure cannot revive it).");
        string siloName = NodeIds.SiloOf(nodeId)
            ?? throw new NodeUnavailableException($"Node id '{nodeId}' is malformed: node ids are '<silo name>/<device>', e.g. 'gpu-host-7/cuda0'.");
        var silo = NodeSilos.FindActive(membership, siloName, context.GetCompatibleSilos(target))
            ?? throw new NodeUnavailableException($"Node '{nodeId}' is unavailable: its silo '{siloName}' is not an active member of the cluster (active silos: {NodeSilos.ActiveNames(membership)}). Node grains are never re-created on another machine.");
        return Task.FromResult(silo);
    }
}
