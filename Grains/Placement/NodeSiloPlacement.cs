using Orleans.Placement;
using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>Activates a node grain on the silo named by its key ("&lt;silo&gt;/&lt;device&gt;") and nowhere else.</summary>
[GenerateSerializer, Immutable]
public sealed class NodeSiloPlacement : PlacementStrategy
{
    internal static readonly NodeSiloPlacement Singleton = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class NodeSiloPlacementAttribute() : PlacementAttribute(NodeSiloPlacement.Singleton);
