using System.Collections.Concurrent;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Concurrency;

namespace Cluster.Grains.Tests;

/// <summary>
/// Watches the all-reduce's transfers between replicas: how many calls carried gradient values, and the most values
/// one of them carried. Registered on every silo as an incoming filter.
/// </summary>
public sealed class AllReduceRangeCounter : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private int _mostValues;

    /// <summary>Calls per method name (GetGradientRange, GetReducedRange, and the whole-chunk methods of earlier versions).</summary>
    public IReadOnlyDictionary<string, int> Calls => _calls;

    /// <summary>The most values one call returned.</summary>
    public int MostValues => Volatile.Read(ref _mostValues);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.Invoke();
        if (context.InterfaceMethod.DeclaringType != typeof(IPipelineStageGrain) || context.Result is not Immutable<float[]> values) return;
        _calls.AddOrUpdate(context.InterfaceMethod.Name, 1, (_, n) => n + 1);
        int length = values.Value.Length, most;
        while (length > (most = Volatile.Read(ref _mostValues)) && Interlocked.CompareExchange(ref _mostValues, length, most) != most)
        {
        }
    }
}
