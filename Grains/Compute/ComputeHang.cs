using System.Collections.Concurrent;

namespace Cluster.Grains.Compute;

/// <summary>
/// Fault injection for drills and tests, beside <see cref="ComputeSlowdown"/>: a hung node's device worker starts its
/// next operation and never finishes it — a GPU kernel that never returns, a driver hang, a deadlocked worker — until
/// the hang is cleared. The node's heartbeat then shows the operation's age and the node turns Unhealthy once that
/// passes the hang limit (<see cref="Hosting.TrainingClusterOptions.DeviceHangFloor"/>). One per silo; empty unless
/// someone sets a hang — in process (<see cref="Set"/>), or from outside through a file named after the node in
/// <see cref="Hosting.TrainingClusterOptions.ComputeHangDirectory"/> (<see cref="TriggerFileName"/>).
/// </summary>
public sealed class ComputeHang : IDisposable
{
    private readonly ConcurrentDictionary<string, ManualResetEventSlim> _hung = new(StringComparer.Ordinal);
    private readonly string? _triggerDirectory;

    public ComputeHang()
    {
    }

    public ComputeHang(Microsoft.Extensions.Options.IOptions<Hosting.TrainingClusterOptions> options) =>
        _triggerDirectory = string.IsNullOrWhiteSpace(options.Value.ComputeHangDirectory) ? null : options.Value.ComputeHangDirectory;

    /// <summary>The file in <see cref="Hosting.TrainingClusterOptions.ComputeHangDirectory"/> whose presence hangs <paramref name="nodeId"/>'s device ('/' becomes '_').</summary>
    public static string TriggerFileName(string nodeId) => nodeId.Replace('/', '_') + ".hang";

    /// <summary>From now on, the next operation on <paramref name="nodeId"/>'s device hangs (and every one after it).</summary>
    public void Set(string nodeId) => _hung.GetOrAdd(nodeId, _ => new ManualResetEventSlim(false));

    /// <summary>Lets the hung operation of <paramref name="nodeId"/> go on, and later ones run normally.</summary>
    public void Clear(string nodeId)
    {
        if (_hung.TryRemove(nodeId, out var gate)) gate.Set();
    }

    public bool IsHung(string nodeId) => _hung.ContainsKey(nodeId);

    /// <summary>Called by the device thread before each operation: blocks while the node is hung.</summary>
    internal void WaitWhileHung(string nodeId)
    {
        if (_triggerDirectory is not null && !_hung.ContainsKey(nodeId) && File.Exists(Path.Combine(_triggerDirectory, TriggerFileName(nodeId))))
            Set(nodeId); // hangs until cleared in process, or the silo stops
        if (_hung.TryGetValue(nodeId, out var gate)) gate.Wait();
    }

    /// <summary>Releases every hung worker (so a silo can shut down).</summary>
    public void Dispose()
    {
        foreach (string nodeId in _hung.Keys.ToArray()) Clear(nodeId);
    }
}
