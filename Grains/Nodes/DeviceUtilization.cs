namespace Cluster.Grains.Nodes;

/// <summary>
/// A node's device utilization as its heartbeats report it: the share of the wall time between two heartbeats that the
/// device thread spent running operations (a hung one included), like a GPU's utilization. On a CUDA device an
/// operation ends when its results are back on the host, so this counts the time the device had work in hand, not its
/// kernels' occupancy. A device waiting for work — a replica at the all-reduce's barrier, a stage in a pipeline bubble,
/// a job between steps — shows here.
/// </summary>
internal sealed class DeviceUtilization
{
    private TimeSpan _busy;
    private DateTimeOffset? _at;

    /// <summary>The share (0–1) over the interval that ended at the last <see cref="Sample"/>; null before the second.</summary>
    public double? Last { get; private set; }

    /// <summary>
    /// Ends an interval at <paramref name="now"/>, with <paramref name="busy"/> the device's busy time so far (read
    /// consistently, <see cref="Compute.DeviceWorker.BusyTime"/>); returns its share.
    /// </summary>
    public double? Sample(TimeSpan busy, DateTimeOffset now)
    {
        if (_at is { } at && now > at)
            Last = Math.Clamp((busy - _busy) / (now - at), 0, 1); // clamped against a clock that steps between samples
        _busy = busy;
        _at = now;
        return Last;
    }
}
