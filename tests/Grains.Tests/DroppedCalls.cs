namespace Cluster.Grains.Tests;

/// <summary>
/// Fails the next calls of one grain method as they arrive, as a lost one-way message would come to nothing (the
/// caller sees an error; the grain never runs the call). An incoming filter on every silo; disarmed by default.
/// </summary>
public sealed class DroppedCalls : IIncomingGrainCallFilter
{
    private volatile Type? _interface;
    private volatile string? _method;
    private int _toDrop;
    private int _dropped;
    private volatile Func<string, Exception>? _fault;

    /// <summary>
    /// Drops the next <paramref name="count"/> calls of <typeparamref name="TGrain"/>'s <paramref name="method"/>, each
    /// failing with <paramref name="fault"/>'s exception (given the method's name), an <see cref="InvalidOperationException"/> without it.
    /// </summary>
    public void Arm<TGrain>(string method, int count, Func<string, Exception>? fault = null)
    {
        _interface = typeof(TGrain);
        _method = method;
        _fault = fault;
        Interlocked.Exchange(ref _dropped, 0);
        Interlocked.Exchange(ref _toDrop, count);
    }

    /// <summary>Calls dropped since <see cref="Arm"/>.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    public Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.InterfaceMethod.DeclaringType == _interface && context.InterfaceMethod.Name == _method && Interlocked.Decrement(ref _toDrop) >= 0)
        {
            Interlocked.Increment(ref _dropped);
            string what = $"{_method} dropped by the test ({nameof(DroppedCalls)}).";
            throw _fault?.Invoke(what) ?? new InvalidOperationException(what);
        }
        return context.Invoke();
    }
}
