using Orleans.Placement;
using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>
/// Activates a grain on an active silo other than the one named by <see cref="PlacementContextKeys.AvoidSilo"/>
/// (when there is one), chosen by the grain key so repeated placements agree. Checkpoint shards use it so that the
/// in-memory copy of a stage's state does not die with the stage.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class AwayFromSiloPlacement : PlacementStrategy
{
    internal static readonly AwayFromSiloPlacement Singleton = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AwayFromSiloPlacementAttribute() : PlacementAttribute(AwayFromSiloPlacement.Singleton);
