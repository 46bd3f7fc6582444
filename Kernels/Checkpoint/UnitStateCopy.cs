using Cluster.Kernels.Config;
using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// A unit's state (parameters and AdamW moments) copied off the device into host buffers of its own: what a snapshot
/// takes on the device thread. <see cref="Encode"/> turns it into the unit's safetensors image and touches no tensor, so
/// it runs on any thread while the device goes on with the next step.
/// </summary>
public sealed record UnitStateCopy(int UnitIndex, string UnitName, long OptimizerSteps,
    IReadOnlyList<(string GlobalName, WireTensor Parameter, WireTensor ExpAvg, WireTensor ExpAvgSq)> Parameters)
{
    public UnitStateImage Encode(ModelConfig config) =>
        new(UnitIndex, UnitName, OptimizerSteps, UnitStateCodec.EncodeChunks(config, UnitIndex, UnitName, OptimizerSteps, Parameters));
}
