namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// The state of one model unit (parameters + AdamW moments + optimizer step) as a safetensors image: the unit of
/// checkpoint storage, in-memory replication and resharding. <see cref="FileName"/> is its name inside a checkpoint.
/// The image is held in chunks (<see cref="ChunkedBytes"/>), so a unit whose state is over 2 GiB has one too.
/// </summary>
public sealed record UnitStateImage(int UnitIndex, string UnitName, long OptimizerSteps, ChunkedBytes Image)
{
    public string FileName => FileNameOf(UnitName);

    public static string FileNameOf(string unitName) => unitName + ".safetensors";
}
