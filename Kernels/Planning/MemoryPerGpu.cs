namespace Cluster.Kernels.Planning;

/// <summary>Bytes one GPU of the most loaded pipeline stage needs, by kind.</summary>
public sealed record MemoryPerGpu(long Weights, long Gradients, long OptimizerState, long Activations, long Reserved)
{
    public long Total => Weights + Gradients + OptimizerState + Activations + Reserved;

    public override string ToString() =>
        $"{Size(Total)} (weights {Size(Weights)}, gradients {Size(Gradients)}, optimizer {Size(OptimizerState)}, activations {Size(Activations)}, reserved {Size(Reserved)})";

    /// <summary>Decimal units, as GPU memory is sold: "80.0 GB", "650.5 kB".</summary>
    public static string Size(long bytes)
    {
        var (value, unit) = Math.Abs(bytes) >= 1e9 ? (bytes / 1e9, "GB") : Math.Abs(bytes) >= 1e6 ? (bytes / 1e6, "MB") : (bytes / 1e3, "kB");
        return value.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " " + unit;
    }
}
