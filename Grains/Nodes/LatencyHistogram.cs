namespace Cluster.Grains.Nodes;

/// <summary>
/// Latencies in 0.5 ms buckets up to 2 s (beyond: one overflow bucket) plus the exact maximum: fixed memory however
/// many are recorded, and no allocation per record. Not thread-safe: the owner locks.
/// </summary>
public sealed class LatencyHistogram
{
    private const double BucketMs = 0.5;
    private readonly long[] _buckets = new long[4_001]; // the last one holds everything from 2 s on
    private long _count;
    private double _max;

    public long Count => _count;

    public void Record(double ms)
    {
        int bucket = ms <= 0 ? 0 : (int)Math.Min(_buckets.Length - 1, Math.Floor(ms / BucketMs));
        _buckets[bucket]++;
        _count++;
        _max = Math.Max(_max, ms);
    }

    /// <summary>The upper edge of the bucket holding the <paramref name="q"/>-quantile (the maximum if it overflowed); 0 when empty.</summary>
    public double Quantile(double q)
    {
        if (_count == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * _count)), seen = 0;
        for (int b = 0; b < _buckets.Length; b++)
        {
            seen += _buckets[b];
            if (seen >= rank) return b == _buckets.Length - 1 ? _max : Math.Min(_max, (b + 1) * BucketMs);
        }
        return _max;
    }

    public double Max => _max;

    public void Clear()
    {
        Array.Clear(_buckets);
        _count = 0;
        _max = 0;
    }
}
