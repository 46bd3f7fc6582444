using Cluster.Kernels.Config;
using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// A unit's state (parameters and AdamW moments) copied off the device into host buffers of its own: what a snapshot
/// takes on the device thread. <see cref="Encode"/> turns it into the unit's safetensors image and touches no tensor, so
/// it runs on any thread while the device goes on with the next step.
/// <para>
/// Cost (issue 16 §2: on a CPU-bound step every millisecond here is stall): one pass over the host buffers to hash them
/// (XXH3-128, a tenth of a millisecond for a 2.4 MB unit) and one to copy them into the image; the image is a new
/// array every time, never pooled. Invariant that forbids pooling it: an image is kept (the stage's two newest, each
/// holder's two newest) and, being <c>[Immutable]</c> on the wire, shared by reference with every grain of the same
/// silo it is handed to (a holder when no other silo exists, a replica restoring from it, a holder taking over a
/// sibling's copies), so no one owner knows when its last reader is done. The host buffers are reused instead
/// (<see cref="UnitStateBuffers"/>): only this method reads them, and only until it returns.
/// </para>
/// </summary>
public sealed record UnitStateCopy(int UnitIndex, string UnitName, long OptimizerSteps,
    IReadOnlyList<(string GlobalName, WireTensor Parameter, WireTensor ExpAvg, WireTensor ExpAvgSq)> Parameters)
{
    public UnitStateImage Encode(ModelConfig config) =>
        new(UnitIndex, UnitName, OptimizerSteps, UnitStateCodec.EncodeChunks(config, UnitIndex, UnitName, OptimizerSteps, Parameters));
}
