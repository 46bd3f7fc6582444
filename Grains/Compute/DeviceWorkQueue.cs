namespace Cluster.Grains.Compute;

/// <summary>
/// The device thread's queue of work: many producers, one consumer that blocks while it is empty — without spinning.
/// <see cref="System.Collections.Concurrent.BlockingCollection{T}"/> (a <see cref="SemaphoreSlim"/> inside) spins and
/// yields before it sleeps, every time its consumer finds the queue empty: a device thread waiting for the next
/// micro-batch then took CPU from the other device threads of a busy machine (≈ 1 % of all CPU samples in a 3-silo,
/// 4-stage profile on 2 cores, 2026-12-04, in <c>sched_yield</c>). A device's work items run for milliseconds, so the
/// microseconds a wake-up from a real wait costs are nothing beside them.
/// <para>
/// Invariant: an item is either added before <see cref="Close"/> — and then taken, in order, before <see cref="Take"/>
/// reports the end — or refused (<see cref="TryAdd"/> returns false); none is lost in between.
/// </para>
/// </summary>
internal sealed class DeviceWorkQueue<T>
    where T : class
{
    private readonly Queue<T> _items = new();
    private bool _closed;

    public int Count
    {
        get
        {
            lock (_items) return _items.Count;
        }
    }

    /// <summary>Queues <paramref name="item"/>; false once the queue is closed.</summary>
    public bool TryAdd(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        lock (_items)
        {
            if (_closed) return false;
            _items.Enqueue(item);
            Monitor.Pulse(_items); // the one consumer, if it waits
            return true;
        }
    }

    /// <summary>The next item, waiting (blocked, not spinning) while there is none; null once closed and drained.</summary>
    public T? Take()
    {
        lock (_items)
        {
            while (_items.Count == 0)
            {
                if (_closed) return null;
                Monitor.Wait(_items);
            }
            return _items.Dequeue();
        }
    }

    /// <summary>Refuses further items; the consumer takes those already queued, then sees the end.</summary>
    public void Close()
    {
        lock (_items)
        {
            _closed = true;
            Monitor.PulseAll(_items);
        }
    }
}
