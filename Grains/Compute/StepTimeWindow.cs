namespace Cluster.Grains.Compute;

/// <summary>The last N step times of a node, for p50 / p99 in its heartbeat. Thread-safe.</summary>
public sealed class StepTimeWindow(int capacity)
{
    private readonly double[] _values = new double[capacity];
    private readonly Lock _lock = new();
    private int _count;
    private int _next;

    public void Add(double milliseconds)
    {
        lock (_lock)
        {
            _values[_next] = milliseconds;
            _next = (_next + 1) % _values.Length;
            _count = Math.Min(_count + 1, _values.Length);
        }
    }

    /// <summary>Nearest-rank percentiles; zeros when no step was recorded yet.</summary>
    public (double P50, double P99) Percentiles()
    {
        double[] sorted;
        lock (_lock)
        {
            if (_count == 0) return (0, 0);
            sorted = _values.AsSpan(0, _count).ToArray();
        }
        Array.Sort(sorted);
        return (Rank(sorted, 0.50), Rank(sorted, 0.99));
    }

    private static double Rank(double[] sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
