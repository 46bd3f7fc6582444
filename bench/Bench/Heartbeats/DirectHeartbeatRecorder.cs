using Cluster.Grains.Nodes;

namespace Cluster.Bench.Heartbeats;

/// <summary>Round-trip times of heartbeats sent straight to the scheduler (no aggregator), with the aggregator's statistics' shape.</summary>
internal sealed class DirectHeartbeatRecorder
{
    private readonly object _gate = new();
    private readonly List<double> _ms = [];
    private long _failed;

    public void Record(double ms)
    {
        lock (_gate) _ms.Add(ms);
    }

    public void Failed()
    {
        lock (_gate) _failed++;
    }

    public HeartbeatDeliveryStats TakeStats()
    {
        double[] sorted;
        long failed;
        lock (_gate)
        {
            sorted = [.. _ms];
            _ms.Clear();
            (failed, _failed) = (_failed, 0);
        }
        Array.Sort(sorted);
        double P(double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new HeartbeatDeliveryStats(sorted.Length, failed, sorted.Length, P(0.5), P(0.99), sorted.Length > 0 ? sorted[^1] : 0);
    }
}
