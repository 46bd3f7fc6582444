namespace Cluster.Grains.Tests;

/// <summary>
/// Holds back one grain call a test picks until the test fails it with an exception of its choice — the caller then
/// sees that exception at a moment the test controls (after its silo was stopped, say) — or lets it go on as if it had
/// only been slow. An outgoing filter on every silo of a fixture (the call is held before it is sent); disarmed by
/// default, and only the first matching call is held.
/// </summary>
public sealed class HeldCall : IOutgoingGrainCallFilter
{
    private volatile Armed? _armed; // read by every call on every silo's threads

    private sealed class Armed(Func<IGrainCallContext, bool> match)
    {
        private int _taken;

        public Func<IGrainCallContext, bool> Match { get; } = match;

        public TaskCompletionSource<string> Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The fault the held call throws, or null to let it run.</summary>
        public TaskCompletionSource<Exception?> Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>True for the one call that is held.</summary>
        public bool Take() => Interlocked.Exchange(ref _taken, 1) == 0;
    }

    /// <summary>Holds the next call that <paramref name="match"/> picks.</summary>
    public void Arm(Func<IGrainCallContext, bool> match)
    {
        ArgumentNullException.ThrowIfNull(match);
        if (Interlocked.CompareExchange(ref _armed, new Armed(match), null) is not null)
            throw new InvalidOperationException("A call is already held: fail it first.");
    }

    /// <summary>Completes with "target.Method" once the call is held.</summary>
    public Task<string> Reached => (_armed ?? throw new InvalidOperationException("Not armed.")).Reached.Task;

    /// <summary>Disarms; the held call (if any) throws <paramref name="fault"/> to its caller without having run.</summary>
    public void Fail(Exception fault) => Interlocked.Exchange(ref _armed, null)?.Released.TrySetResult(fault);

    /// <summary>Disarms; the held call (if any) is sent now, late but otherwise untouched.</summary>
    public void Release() => Interlocked.Exchange(ref _armed, null)?.Released.TrySetResult(null);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var armed = _armed;
        if (armed is not null && armed.Match(context) && armed.Take())
        {
            armed.Reached.TrySetResult($"{context.TargetId}.{context.InterfaceMethod.Name}");
            if (await armed.Released.Task is { } fault) throw fault;
        }
        await context.Invoke();
    }
}
