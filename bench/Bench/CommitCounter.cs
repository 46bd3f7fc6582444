using System.Diagnostics.Metrics;
using Cluster.Grains.Hosting;

namespace Cluster.Bench;

/// <summary>
/// Counts one job's committed checkpoints, and keeps their commit times, from the cluster's own instrument
/// (<c>cluster.checkpoint.commit.duration</c> of meter <see cref="TrainingMetrics.MeterName"/>), while the cluster runs in
/// this process: how many of the checkpoints a benchmark made due were taken (one still in flight skips the next).
/// </summary>
internal sealed class CommitCounter : IDisposable
{
    private const string Instrument = "cluster.checkpoint.commit.duration";
    private readonly MeterListener _listener = new();
    private readonly List<double> _seconds = [];
    private readonly Lock _gate = new();

    public CommitCounter(string jobId)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TrainingMetrics.MeterName && instrument.Name == Instrument) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "job" && tag.Value as string == jobId)
                    lock (_gate) _seconds.Add(seconds);
        });
        _listener.Start();
    }

    public int Count
    {
        get { lock (_gate) return _seconds.Count; }
    }

    /// <summary>The commits' median time (0 when none).</summary>
    public double MedianSeconds
    {
        get { lock (_gate) return _seconds.Count == 0 ? 0 : Median.Of(_seconds); }
    }

    public void Dispose() => _listener.Dispose();
}
