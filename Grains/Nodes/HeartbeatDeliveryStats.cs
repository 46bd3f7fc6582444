namespace Cluster.Grains.Nodes;

/// <summary>Heartbeats delivered since the last reset and their latency percentiles, from sending to the scheduler's acknowledgement.</summary>
public sealed record HeartbeatDeliveryStats(long Delivered, long Failed, int Batches, double P50Ms, double P99Ms, double MaxMs)
{
    /// <summary>The statistics of a window's latencies.</summary>
    public static HeartbeatDeliveryStats Of(LatencyHistogram latencies, long failed, int batches)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        return new HeartbeatDeliveryStats(latencies.Count, failed, batches, latencies.Quantile(0.50), latencies.Quantile(0.99), latencies.Max);
    }
}
