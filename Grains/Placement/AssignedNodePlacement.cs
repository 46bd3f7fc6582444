using Orleans.Placement;
using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>
/// Activates a stage grain on the silo of the node its job assigned it to, named by the
/// <see cref="PlacementContextKeys.Node"/> request-context entry of the activating call. Without one (a late message
/// from before a failure), activation is refused.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class AssignedNodePlacement : PlacementStrategy
{
    internal static readonly AssignedNodePlacement Singleton = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AssignedNodePlacementAttribute() : PlacementAttribute(AssignedNodePlacement.Singleton);
