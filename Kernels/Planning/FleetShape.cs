namespace Cluster.Kernels.Planning;

/// <summary>
/// The GPUs to plan for: how many, their memory and dense 16-bit peak, how many share a node, and the bandwidth each
/// GPU has to the others in its node (NVLink) and to other nodes (its NIC), in GB/s per direction.
/// </summary>
public sealed record FleetShape(string Name, int Gpus, long GpuMemoryBytes, int GpusPerNode, double PeakTflops, double IntraNodeGBps, double InterNodeGBps)
{
    private const long GB = 1_000_000_000;

    /// <summary>H100 SXM: 80 GB, 989 dense bf16 TFLOP/s, NVLink 4 (450 GB/s each way), 400 Gb/s InfiniBand per GPU.</summary>
    public static FleetShape H100(int gpus) => new($"{gpus:N0} × H100 80 GB", gpus, 80 * GB, 8, 989, 450, 50);

    /// <summary>H200 SXM: as the H100 with 141 GB of HBM3e.</summary>
    public static FleetShape H200(int gpus) => new($"{gpus:N0} × H200 141 GB", gpus, 141 * GB, 8, 989, 450, 50);

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Gpus < 1) problems.Add($"gpus = {Gpus}: a fleet needs at least 1 GPU.");
        if (GpuMemoryBytes < 1) problems.Add($"gpu memory = {GpuMemoryBytes} bytes: must be positive (e.g. 80 GB).");
        if (GpusPerNode < 1) problems.Add($"gpus per node = {GpusPerNode}: must be at least 1 (8 is usual).");
        if (!(PeakTflops > 0)) problems.Add($"peak = {PeakTflops} TFLOP/s: must be positive (989 for an H100 in bf16).");
        if (!(IntraNodeGBps > 0)) problems.Add($"intra-node bandwidth = {IntraNodeGBps} GB/s: must be positive (450 for NVLink 4).");
        if (!(InterNodeGBps > 0)) problems.Add($"inter-node bandwidth = {InterNodeGBps} GB/s: must be positive (50 for 400 Gb/s).");
        return problems;
    }
}
