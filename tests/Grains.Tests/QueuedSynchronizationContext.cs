namespace Cluster.Grains.Tests;

/// <summary>
/// A synchronization context that only queues: continuations awaited under it run when the test pumps, on the test's
/// thread, in order — so async code driven by a <see cref="ScheduledGrainStorage"/> runs deterministically.
/// </summary>
internal sealed class QueuedSynchronizationContext : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();

    public override void Post(SendOrPostCallback d, object? state) => _queue.Enqueue((d, state));

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("synchronous sends are not scheduled");

    /// <summary>Runs queued continuations (and those they queue) until none is left.</summary>
    public void Pump()
    {
        for (int i = 0; _queue.TryDequeue(out var next); i++)
        {
            if (i > 100_000) throw new InvalidOperationException("continuations keep queueing: a livelock");
            next.Callback(next.State);
        }
    }
}
