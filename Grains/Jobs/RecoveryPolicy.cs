using System.Runtime.ExceptionServices;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Jobs;

/// <summary>
/// What a job does about a failure, on the injected <see cref="TimeProvider"/> (no bare delays). Invariants it owns:
/// <list type="bullet">
/// <item>Causes that waiting cannot fix — a spec that is invalid or cannot fit the cluster, data that cannot be read —
/// are fatal at once (<see cref="IsRecoverable"/>); every other failure is recovered from.</item>
/// <item>Failure budget: at most <see cref="JobCoordinatorOptions.MaxRecoveriesWithoutProgress"/> failures within
/// <see cref="JobCoordinatorOptions.FailureWindow"/> without a completed step in between; one more fails the job.</item>
/// <item>Back-off: capped exponential with jitter, per failure without progress (recoveries) and per storage wait
/// without a placement (outages), so that many jobs after one outage do not retry in lock-step. A recovery backs off
/// even when its own bookkeeping fails (<see cref="Recover"/>), and only a request that arrives during a wait cuts it
/// short (<see cref="Wait"/>).</item>
/// </list>
/// </summary>
internal sealed class RecoveryPolicy(JobCoordinatorOptions options, TimeProvider time, Random? random = null)
{
    private readonly Queue<DateTimeOffset> _failures = new();
    private int _storageWaits;

    /// <summary>Failures counted in the budget now.</summary>
    public int FailuresInWindow => _failures.Count;

    /// <summary>False for causes that waiting cannot fix.</summary>
    public static bool IsRecoverable(Exception e) =>
        e is not (JobUnplaceableException or JobSpecInvalidException or InvalidDataException);

    /// <summary>Counts <paramref name="failure"/> and says whether to recover (after which delay) or to fail, and why.</summary>
    public RecoveryDecision OnFailure(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        string cause = ShortError.Of(failure);
        if (!IsRecoverable(failure)) return new RecoveryDecision(false, TimeSpan.Zero, cause);
        var now = time.GetUtcNow();
        while (_failures.Count > 0 && now - _failures.Peek() > options.FailureWindow) _failures.Dequeue();
        _failures.Enqueue(now);
        if (_failures.Count > options.MaxRecoveriesWithoutProgress)
            return new RecoveryDecision(false, TimeSpan.Zero, $"{options.MaxRecoveriesWithoutProgress} failures without progress, the last: {cause}");
        return new RecoveryDecision(true, Backoff.Delay(_failures.Count, options.RecoveryDelay, options.RecoveryMaxDelay, random), cause);
    }

    /// <summary>A step completed: the failure budget is whole again.</summary>
    public void Progressed() => _failures.Clear();

    /// <summary>Storage could not give the job what it needs: the delay before it tries to place again.</summary>
    public TimeSpan OnStorageUnavailable() =>
        Backoff.Delay(++_storageWaits, options.StorageRetryDelay, options.StorageRetryMaxDelay, random);

    /// <summary>The job was placed: storage waits start over.</summary>
    public void Placed() => _storageWaits = 0;

    /// <summary>
    /// Waits <paramref name="delay"/> on the injected clock, or less when a request reaches <paramref name="mailbox"/>;
    /// the wake is used up, so a request served once does not cut every later wait short (the request itself stays in
    /// the mailbox until the loop serves it).
    /// </summary>
    public async Task Wait(TimeSpan delay, BoundaryMailbox mailbox)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        await Backoff.Wait(time, delay, mailbox.Wake);
        mailbox.ConsumeWake();
    }

    /// <summary>
    /// A recovery's turn: its <paramref name="bookkeeping"/> (report, narrate, collect the last commit), then the
    /// back-off <paramref name="delay"/> (<see cref="Wait"/>) — whatever the bookkeeping throws, which is rethrown only
    /// after the wait. So a failure inside the recovery itself counts like any other, one per back-off, and a fault that
    /// repeats at once cannot spend the whole failure budget in a moment.
    /// </summary>
    public async Task Recover(Func<Task> bookkeeping, TimeSpan delay, BoundaryMailbox mailbox)
    {
        ArgumentNullException.ThrowIfNull(bookkeeping);
        ExceptionDispatchInfo? failed = null;
        try
        {
            await bookkeeping();
        }
        catch (Exception e)
        {
            failed = ExceptionDispatchInfo.Capture(e);
        }
        await Wait(delay, mailbox);
        failed?.Throw();
    }
}
