using Cluster.Grains.Nodes;

namespace Cluster.Bench.Heartbeats;

/// <summary>Round-trip times of heartbeats sent straight to the scheduler (no aggregator), with the aggregator's statistics' shape.</summary>
internal sealed class DirectHeartbeatRecorder
{
    private readonly object _gate = new();
    private readonly LatencyHistogram _ms = new();
    private long _failed;

    public void Record(double ms)
    {
        lock (_gate) _ms.Record(ms);
    }

    public void Failed()
    {
        lock (_gate) _failed++;
    }

    public HeartbeatDeliveryStats TakeStats()
    {
        lock (_gate)
        {
            var stats = HeartbeatDeliveryStats.Of(_ms, _failed, (int)_ms.Count); // one call per heartbeat
            _ms.Clear();
            _failed = 0;
            return stats;
        }
    }
}
