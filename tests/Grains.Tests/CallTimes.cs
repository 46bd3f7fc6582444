using System.Collections.Concurrent;
using System.Diagnostics;

namespace Cluster.Grains.Tests;

/// <summary>
/// Records when each call of one grain method that names a given first argument (a job id, say) arrives, on any silo:
/// an incoming filter; it records nothing until armed.
/// </summary>
public sealed class CallTimes : IIncomingGrainCallFilter
{
    private volatile Watched? _watched; // read by every call on every silo's threads

    private sealed record Watched(Type Interface, string Method, string Argument);
    private readonly ConcurrentQueue<TimeSpan> _times = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>From now on, records the calls of <typeparamref name="TGrain"/>'s <paramref name="method"/> whose first argument is <paramref name="argument"/>.</summary>
    public void Watch<TGrain>(string method, string argument)
    {
        _times.Clear();
        _watched = new Watched(typeof(TGrain), method, argument);
    }

    /// <summary>When each recorded call arrived, in order, on a monotonic clock.</summary>
    public IReadOnlyList<TimeSpan> Times => [.. _times];

    public Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_watched is { } w && context.InterfaceMethod.DeclaringType == w.Interface && context.InterfaceMethod.Name == w.Method
            && context.Request.GetArgumentCount() > 0 && context.Request.GetArgument(0) is string argument && argument == w.Argument)
            _times.Enqueue(_clock.Elapsed);
        return context.Invoke();
    }
}
