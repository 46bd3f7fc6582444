using System.Globalization;

namespace Cluster.Grains.Jobs;

/// <summary>
/// One step under a <see cref="StepWatchdog"/>: the calls it is waiting for and a one-shot timer at the bound fixed
/// when the step began. Thread-safe (calls end on any thread; the timer fires on the thread pool).
/// </summary>
internal sealed class WatchedStep : IDisposable
{
    private readonly StepWatchdog _watchdog;
    private readonly long _step;
    private readonly Action<string> _hung;
    private readonly long _started;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Dictionary<long, (string What, long Since)> _outstanding = [];
    private long _nextCall;
    private bool _fired;
    private bool _disposed;

    internal WatchedStep(StepWatchdog watchdog, long step, TimeSpan bound, Action<string> hung)
    {
        _watchdog = watchdog;
        _step = step;
        _hung = hung;
        Bound = bound;
        _started = watchdog.Time.GetTimestamp();
        _timer = watchdog.Time.CreateTimer(_ => Fire(), null, bound, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The age past which this step counts as hung.</summary>
    public TimeSpan Bound { get; }

    /// <summary>Whether the hang was reported.</summary>
    public bool Hung
    {
        get
        {
            lock (_lock) return _fired;
        }
    }

    /// <summary>The oldest call still outstanding (with how many more), or null when none is.</summary>
    public string? Outstanding
    {
        get
        {
            lock (_lock)
            {
                if (_outstanding.Count == 0) return null;
                var oldest = _outstanding.Values.MinBy(c => c.Since);
                return _outstanding.Count == 1 ? oldest.What : $"{oldest.What} (and {_outstanding.Count - 1} more)";
            }
        }
    }

    /// <summary>Records <paramref name="call"/> (described by <paramref name="what"/>) as outstanding until it ends; returns it.</summary>
    public Task<T> Track<T>(Task<T> call, string what)
    {
        Track((Task)call, what);
        return call;
    }

    /// <inheritdoc cref="Track{T}"/>
    public Task Track(Task call, string what)
    {
        long id;
        lock (_lock)
        {
            id = _nextCall++;
            _outstanding[id] = (what, _watchdog.Time.GetTimestamp());
        }
        _ = call.ContinueWith(_ =>
        {
            lock (_lock) _outstanding.Remove(id);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return call;
    }

    /// <summary>Why the step counts as hung: its age, the bound and how it was derived, and the call outstanding.</summary>
    public string Reason() => string.Create(CultureInfo.InvariantCulture,
        $"step {_step} hung: it has run {_watchdog.Time.GetElapsedTime(_started).TotalSeconds:F1} s, over the bound {Bound.TotalSeconds:F1} s " +
        $"(max({_watchdog.Factor:G} × p99 step {_watchdog.StepTimeP99Ms:F0} ms, floor {_watchdog.Floor.TotalSeconds:F1} s)); " +
        $"waiting for {Outstanding ?? "no call (the job's own work)"}");

    private void Fire()
    {
        lock (_lock)
        {
            if (_fired || _disposed) return;
            _fired = true;
        }
        _hung(Reason());
    }

    /// <summary>Ends the watch; a step that was not reported hung adds its time to the watchdog's window.</summary>
    public void Dispose()
    {
        bool record;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            record = !_fired;
        }
        _timer.Dispose();
        if (record) _watchdog.Finished(_watchdog.Time.GetElapsedTime(_started));
    }
}
