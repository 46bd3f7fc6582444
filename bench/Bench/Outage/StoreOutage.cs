namespace Cluster.Bench.Outage;

/// <summary>
/// Whether the checkpoint store is down, shared by every silo of the in-process cluster (one store, like a real one),
/// and how many calls it refused while down.
/// </summary>
internal sealed class StoreOutage
{
    private volatile bool _down;
    private int _refused;

    public bool IsDown => _down;

    public int Refused => Volatile.Read(ref _refused);

    public void Begin() => _down = true;

    public void End() => _down = false;

    /// <summary>Throws what a client of an unreachable store sees, when the store is down.</summary>
    public void ThrowIfDown(string call, string jobId)
    {
        if (!_down) return;
        Interlocked.Increment(ref _refused);
        throw new IOException($"bench outage: {call} of '{jobId}' refused (checkpoint store unreachable)");
    }
}
