namespace Cluster.Kernels.Training;

/// <summary>The step loss as the mean of micro-batch losses, summed in micro-batch order in float64 (canonical).</summary>
public static class LossReduction
{
    public static double Mean(IReadOnlyList<double> microBatchLosses)
    {
        ArgumentNullException.ThrowIfNull(microBatchLosses);
        if (microBatchLosses.Count == 0)
            throw new ArgumentException("A step needs at least one micro-batch loss.", nameof(microBatchLosses));
        double sum = 0;
        foreach (double loss in microBatchLosses) sum += loss;
        return sum / microBatchLosses.Count;
    }

    /// <summary>The gradient seed of each micro-batch's loss so that gradients average over the step's micro-batches.</summary>
    public static float Scale(int microBatches) => 1.0f / microBatches;
}
