using System.Collections.Concurrent;
using System.Diagnostics;

namespace Cluster.Grains.Tests;

/// <summary>An in-memory span exporter for tests: records every stopped activity of the given sources, all data sampled.</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanRecorder(params string[] sources)
    {
        var names = sources.ToHashSet(StringComparer.Ordinal);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => names.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Spans => [.. _stopped];

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="span"/>'s parent, grandparent, … among the recorded spans (across grain calls).</summary>
    public bool IsAncestor(Activity ancestor, Activity span)
    {
        var bySpanId = Spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        var current = span;
        for (int depth = 0; depth < 64 && current.ParentSpanId != default; depth++)
        {
            if (current.ParentSpanId == ancestor.SpanId && current.TraceId == ancestor.TraceId) return true;
            if (!bySpanId.TryGetValue(current.ParentSpanId, out var parent)) return false;
            current = parent;
        }
        return false;
    }

    public void Dispose() => _listener.Dispose();
}
