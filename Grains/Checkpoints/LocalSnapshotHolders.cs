using Cluster.Grains.Hosting;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// The snapshot holders (checkpoint-shard grain activations, by key) that live on this silo: what a silo that shuts
/// down moves away first (<c>SnapshotHolderEvacuationOnShutdown</c>). A holder adds itself when it activates and
/// removes itself when it deactivates. Also how far this silo's graceful stop has come: once it has begun
/// (<see cref="SiloLeaving"/>) no holder is placed here, and one that comes all the same (placed by a silo that does not
/// know yet, or moving here) moves on as soon as it holds a copy — while the silo can still serve the copies it leaves
/// behind (<see cref="TryDepart"/>); once the stop has waited for the last of them (<see cref="MarkSiloLeft"/>), a holder
/// stays, and its copies go with the silo as they did before.
/// </summary>
internal sealed class LocalSnapshotHolders : LocalGrainKeys
{
    private enum Phase
    {
        Running,
        Leaving,
        Left,
    }

    private readonly Lock _gate = new();
    private volatile Phase _phase;

    /// <summary>True once this silo's graceful stop has begun; never false again (a silo does not come back).</summary>
    public bool SiloLeaving => _phase != Phase.Running;

    /// <summary>True while a holder here may still move on with its copies: the stop has begun and still waits for them.</summary>
    public bool CanDepart => _phase == Phase.Leaving;

    /// <summary>Called when this silo's graceful stop begins, before its holders are asked to leave.</summary>
    public void MarkSiloLeaving()
    {
        lock (_gate)
            if (_phase == Phase.Running) _phase = Phase.Leaving;
    }

    /// <summary>Called when the stop waits for the copies of the holders that left for the last time: no holder departs after.</summary>
    public void MarkSiloLeft()
    {
        lock (_gate) _phase = Phase.Left;
    }

    /// <summary>
    /// Runs <paramref name="departing"/> (a holder registering the copies it is about to leave here) and returns true,
    /// only while <see cref="CanDepart"/> — atomically with <see cref="MarkSiloLeft"/>, so the stop's last wait counts it.
    /// </summary>
    public bool TryDepart(Action departing)
    {
        ArgumentNullException.ThrowIfNull(departing);
        lock (_gate)
        {
            if (_phase != Phase.Leaving) return false;
            departing();
            return true;
        }
    }
}
