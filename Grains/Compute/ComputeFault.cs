namespace Cluster.Grains.Compute;

/// <summary>
/// Fault injection for drills and tests, beside <see cref="ComputeHang"/> and <see cref="ComputeSlowdown"/>: a node's
/// device throws from its operations, as a GPU with an ECC or Xid error does — every operation while the fault lasts,
/// or a given number of them after a given number that pass (a fault at a chosen moment of the step). With
/// <see cref="ComputeFaultMode.FailAfterRunning"/> the operation's effects happen before its caller hears the error.
/// One per silo; empty unless someone sets a fault — in process (<see cref="Set"/>), or from outside through a file
/// named after the node in <see cref="Hosting.TrainingClusterOptions.ComputeHangDirectory"/>
/// (<see cref="TriggerFileName"/>: every operation fails while it exists).
/// </summary>
public sealed class ComputeFault
{
    private readonly Dictionary<string, Fault> _faults = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _hits = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly string? _triggerDirectory;

    public ComputeFault()
    {
    }

    public ComputeFault(Microsoft.Extensions.Options.IOptions<Hosting.TrainingClusterOptions> options) =>
        _triggerDirectory = string.IsNullOrWhiteSpace(options.Value.ComputeHangDirectory) ? null : options.Value.ComputeHangDirectory;

    /// <summary>The file in <see cref="Hosting.TrainingClusterOptions.ComputeHangDirectory"/> whose presence fails every operation of <paramref name="nodeId"/>'s device ('/' becomes '_').</summary>
    public static string TriggerFileName(string nodeId) => nodeId.Replace('/', '_') + ".fail";

    /// <summary>
    /// From now on, after <paramref name="passing"/> more operations run normally, the next <paramref name="times"/>
    /// operations on <paramref name="nodeId"/>'s device fail as <paramref name="mode"/> says; then it works again. With
    /// <paramref name="operation"/>, only operations of that name count, passing or failing — the name of the method the
    /// device runs (<c>nameof(StageExecutor.LocalGradients)</c>): a fault at one kind of operation, whatever else runs on
    /// the device meanwhile. Only work handed to the device as a method group has such a name; a lambda's is the
    /// compiler's, and a stage under <see cref="ComputeSlowdown"/> wraps its compute in one.
    /// </summary>
    public void Set(string nodeId, ComputeFaultMode mode, int passing = 0, int times = int.MaxValue, string? operation = null)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        ArgumentOutOfRangeException.ThrowIfNegative(passing);
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        if (operation is not null) ArgumentException.ThrowIfNullOrWhiteSpace(operation);
        lock (_lock) _faults[nodeId] = new Fault(mode, passing, times, operation);
    }

    /// <summary>Ends the fault of <paramref name="nodeId"/>: its device works again.</summary>
    public void Clear(string nodeId)
    {
        lock (_lock) _faults.Remove(nodeId);
    }

    /// <summary>Whether a fault of <paramref name="nodeId"/> is still to hit (or hitting).</summary>
    public bool IsSet(string nodeId)
    {
        lock (_lock) return _faults.ContainsKey(nodeId);
    }

    /// <summary>Operations of <paramref name="nodeId"/> failed by an injected fault so far.</summary>
    public int Hits(string nodeId)
    {
        lock (_lock) return _hits.GetValueOrDefault(nodeId);
    }

    /// <summary>
    /// Called by the device thread before it runs <paramref name="operation"/>: throws if it fails as
    /// <see cref="ComputeFaultMode.Fail"/>; says whether it fails after running.
    /// </summary>
    internal bool BeforeOperation(string nodeId, Delegate operation)
    {
        if (_triggerDirectory is not null && File.Exists(Path.Combine(_triggerDirectory, TriggerFileName(nodeId))))
            throw Hit(nodeId, "failed (drill trigger file present)");
        ComputeFaultMode mode;
        lock (_lock)
        {
            if (!_faults.TryGetValue(nodeId, out var fault)) return false;
            if (fault.Operation is not null && fault.Operation != operation.Method.Name) return false;
            if (fault.Passing > 0)
            {
                _faults[nodeId] = fault with { Passing = fault.Passing - 1 };
                return false;
            }
            if (fault.Times == 1) _faults.Remove(nodeId);
            else if (fault.Times != int.MaxValue) _faults[nodeId] = fault with { Times = fault.Times - 1 };
            mode = fault.Mode;
        }
        if (mode == ComputeFaultMode.Fail) throw Hit(nodeId, "failed before it ran");
        return true;
    }

    /// <summary>The error of an operation that ran with a <see cref="ComputeFaultMode.FailAfterRunning"/> fault.</summary>
    internal DeviceFaultException AfterRunning(string nodeId) => Hit(nodeId, "ran, then failed");

    private DeviceFaultException Hit(string nodeId, string what)
    {
        lock (_lock) _hits[nodeId] = _hits.GetValueOrDefault(nodeId) + 1;
        return new DeviceFaultException($"injected device fault on {nodeId}: the operation {what} (as after a CUDA error: an illegal memory access was encountered)");
    }

    private sealed record Fault(ComputeFaultMode Mode, int Passing, int Times, string? Operation);
}
