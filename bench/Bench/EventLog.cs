using Cluster.Grains.Interfaces.Events;

namespace Cluster.Bench;

/// <summary>The cluster events a benchmark received, with a way to wait for one.</summary>
internal sealed class EventLog
{
    private readonly List<ClusterEvent> _events = [];
    private readonly Lock _gate = new();

    public void Add(ClusterEvent e)
    {
        lock (_gate) _events.Add(e);
    }

    public ClusterEvent[] Since(DateTimeOffset at)
    {
        lock (_gate) return [.. _events.Where(e => e.At >= at).OrderBy(e => e.At)];
    }

    public async Task<ClusterEvent> WaitFor(Func<ClusterEvent, bool> match, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
            {
                if (_events.FirstOrDefault(match) is { } found) return found;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for the event: {what}");
    }
}
