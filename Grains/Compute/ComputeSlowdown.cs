using System.Collections.Concurrent;

namespace Cluster.Grains.Compute;

/// <summary>
/// Fault injection for drills and tests: adds a fixed delay to every unit of a node's stage compute, as a degraded
/// device would (thermal throttling, a bad PCIe link), so straggler handling can be exercised on healthy hardware.
/// One per silo; empty unless someone sets a delay.
/// </summary>
public sealed class ComputeSlowdown
{
    private readonly ConcurrentDictionary<string, TimeSpan> _delays = new(StringComparer.Ordinal);

    public void Set(string nodeId, TimeSpan delayPerUnit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delayPerUnit, TimeSpan.Zero);
        _delays[nodeId] = delayPerUnit;
    }

    public void Clear(string nodeId) => _delays.TryRemove(nodeId, out _);

    public TimeSpan For(string nodeId) => _delays.TryGetValue(nodeId, out var delay) ? delay : TimeSpan.Zero;
}
