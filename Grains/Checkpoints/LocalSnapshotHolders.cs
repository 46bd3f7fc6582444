using Cluster.Grains.Hosting;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// The snapshot holders (checkpoint-shard grain activations, by key) that live on this silo: what a silo that shuts
/// down moves away first (<c>SnapshotHolderEvacuationOnShutdown</c>). A holder adds itself when it activates and
/// removes itself when it deactivates. Also whether this silo's graceful stop has begun (<see cref="SiloLeaving"/>):
/// from then on no holder is placed here, and one that comes all the same (placed by a silo that does not know yet,
/// or moving here) moves on as soon as it holds a copy.
/// </summary>
internal sealed class LocalSnapshotHolders : LocalGrainKeys
{
    private volatile bool _siloLeaving;

    /// <summary>True once this silo's graceful stop has begun; never false again (a silo does not come back).</summary>
    public bool SiloLeaving => _siloLeaving;

    /// <summary>Called when this silo's graceful stop begins, before its holders are asked to leave.</summary>
    public void MarkSiloLeaving() => _siloLeaving = true;
}
