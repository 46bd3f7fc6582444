namespace Cluster.Grains.Nodes;

/// <summary>Heartbeats delivered since the last reset and their latency percentiles, from sending to the scheduler's acknowledgement.</summary>
public sealed record HeartbeatDeliveryStats(long Delivered, long Failed, int Batches, double P50Ms, double P99Ms, double MaxMs)
{
    /// <summary>The statistics of a window's latencies (milliseconds, any order).</summary>
    public static HeartbeatDeliveryStats Of(IReadOnlyCollection<double> latenciesMs, long failed, int batches)
    {
        double[] sorted = [.. latenciesMs];
        Array.Sort(sorted);
        return new HeartbeatDeliveryStats(sorted.Length, failed, batches, Percentile(sorted, 0.50), Percentile(sorted, 0.99),
            sorted.Length > 0 ? sorted[^1] : 0);
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
