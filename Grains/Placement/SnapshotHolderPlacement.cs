using Orleans.Placement;
using Orleans.Runtime;

namespace Cluster.Grains.Placement;

/// <summary>
/// Places a holder of a stage's in-memory snapshot (a checkpoint shard) on an active silo that hosts neither the stage
/// nor the stage's other holders, whoever activates it: the director looks those silos up itself
/// (<see cref="SnapshotHolderSites"/>), so a lookup by the job during a recovery cannot put the copy next to the state
/// it protects. The silo named by <see cref="PlacementContextKeys.AvoidSilo"/>, when a call carries it, is avoided too.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class SnapshotHolderPlacement : PlacementStrategy
{
    internal static readonly SnapshotHolderPlacement Singleton = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SnapshotHolderPlacementAttribute() : PlacementAttribute(SnapshotHolderPlacement.Singleton);
