namespace Cluster.Grains.Tests;

/// <summary>
/// A fault hook that stops a job at a chosen moment of a step: once armed with a <see cref="CallMoment"/>, every
/// incoming grain call it matches is held back before it runs until <see cref="Release"/>, and then fails (an
/// <see cref="IOException"/>: it never ran) — or, after <see cref="LetRun"/>, runs late. The test loses a silo while
/// the call is held — its callee's, or another's. One instance per fixture, registered on its silos as an incoming
/// filter; the held call's target is reported through <see cref="Reached"/>, so the test can find the silo that runs it.
/// </summary>
public sealed class CallMomentTrap : IIncomingGrainCallFilter
{
    private readonly object _gate = new();
    private volatile Armed? _armed; // read by every call on every silo's threads

    private sealed class Armed(CallMoment moment, string jobId, long step)
    {
        public CallMoment Moment { get; } = moment;

        public string JobId { get; } = jobId;

        public long Step { get; } = step;

        public TaskCompletionSource<GrainId> Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public System.Collections.Concurrent.ConcurrentQueue<string> Completed { get; } = new();

        public bool Fail { get; set; } = true; // written before Released completes, read after

        private int _matched;

        /// <summary>Counts a matching call; true when it is past the moment's <see cref="CallMoment.Skip"/> and is held.</summary>
        public bool Holds() => Interlocked.Increment(ref _matched) > Moment.Skip;
    }

    /// <summary>Holds back every call of <paramref name="moment"/> of <paramref name="jobId"/>'s step <paramref name="step"/> until <see cref="Release"/>.</summary>
    public void Arm(CallMoment moment, string jobId, long step)
    {
        lock (_gate)
        {
            if (_armed is not null) throw new InvalidOperationException($"The trap is still armed for {_armed.Moment.Name}: release it first.");
            _armed = new Armed(moment, jobId, step);
        }
    }

    /// <summary>Completes with the held call's target when the first call of the armed moment arrives (after the moment's skipped ones).</summary>
    public Task<GrainId> Reached => (_armed ?? throw new InvalidOperationException("The trap is not armed.")).Reached.Task;

    /// <summary>Disarms, and fails every call held back.</summary>
    public void Release() => Disarm(fail: true);

    /// <summary>Disarms, and lets every call held back run after all.</summary>
    public void LetRun() => Disarm(fail: false);

    private void Disarm(bool fail)
    {
        Armed? armed;
        lock (_gate)
        {
            armed = _armed;
            _armed = null;
        }
        if (armed is null) return;
        armed.Fail = fail;
        armed.Released.TrySetResult();
    }

    /// <summary>
    /// The calls of the armed job's step that completed while the trap was armed, as "key.Method", e.g.
    /// "job/r1/s1.GradientSquares": what went on while the armed call was held.
    /// </summary>
    public IReadOnlyCollection<string> Completed => (_armed ?? throw new InvalidOperationException("The trap is not armed.")).Completed;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var armed = _armed;
        if (armed is not null && armed.Moment.Matches(context, armed.JobId, armed.Step) && armed.Holds())
        {
            armed.Reached.TrySetResult(context.TargetId);
            await armed.Released.Task;
            if (!armed.Fail)
            {
                await context.Invoke();
                return;
            }
            throw new IOException($"injected: {armed.Moment.Name} of step {armed.Step} was held back and its silo lost ({context.TargetId}.{context.InterfaceMethod.Name})");
        }
        await context.Invoke();
        if (armed is not null && context.Request.GetArgumentCount() >= 2 && context.Request.GetArgument(1) is long step && step == armed.Step
            && context.TargetId.Key.ToString() is { } key && key.StartsWith(armed.JobId + "/", StringComparison.Ordinal))
            armed.Completed.Enqueue($"{key}.{context.InterfaceMethod.Name}");
    }
}
