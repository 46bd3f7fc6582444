using Cluster.Grains.Hosting;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// The snapshot holders (checkpoint-shard grain activations, by key) that live on this silo: what a silo that shuts
/// down moves away first (<c>SnapshotHolderEvacuationOnShutdown</c>). A holder adds itself when it activates and
/// removes itself when it deactivates.
/// </summary>
internal sealed class LocalSnapshotHolders : LocalGrainKeys;
