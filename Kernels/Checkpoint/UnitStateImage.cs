namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// The state of one model unit (parameters + AdamW moments + optimizer step) as a safetensors image: the unit of
/// checkpoint storage, in-memory replication and resharding. <see cref="FileName"/> is its name inside a checkpoint.
/// </summary>
public sealed record UnitStateImage(int UnitIndex, string UnitName, long OptimizerSteps, byte[] Image)
{
    public string FileName => FileNameOf(UnitName);

    public static string FileNameOf(string unitName) => unitName + ".safetensors";
}
