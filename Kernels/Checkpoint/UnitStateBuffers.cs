using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// Host buffers a stage's snapshots copy its state into, kept from one snapshot to the next instead of allocated per
/// step: one per tensor (parameter, AdamW first and second moment), reused while its dtype and shape stay the same.
/// <para>
/// Invariant (its owner's to keep): a copy into these buffers starts only once every reader of the previous copy
/// (<see cref="UnitStateCopy.Encode"/>) has finished — the <see cref="UnitStateCopy"/>s of one copy alias the buffers
/// and are overwritten by the next. Kept by a stage's executor (<c>StageExecutor.CopyStateIntoKeptBuffers</c>); the
/// pipeline stage keeps the invariant with one snapshot in flight at a time. Not thread-safe.
/// </para>
/// </summary>
internal sealed class UnitStateBuffers
{
    private readonly Dictionary<(string Name, int Kind), WireTensor> _buffers = [];

    /// <summary>The buffer kept for tensor <paramref name="name"/>'s <paramref name="kind"/> (0 parameter, 1 and 2 the moments), or null.</summary>
    public WireTensor? Get(string name, int kind) => _buffers.GetValueOrDefault((name, kind));

    /// <summary>Keeps <paramref name="buffer"/> as that tensor's buffer for the next copy; returns it.</summary>
    public WireTensor Keep(string name, int kind, WireTensor buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        _buffers[(name, kind)] = buffer;
        return buffer;
    }
}
