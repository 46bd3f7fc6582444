namespace Cluster.Grains.Compute;

/// <summary>How a device with an injected fault (<see cref="ComputeFault"/>) misbehaves.</summary>
public enum ComputeFaultMode
{
    /// <summary>The operation throws before it runs (a CUDA error at launch, a device that fell off the bus).</summary>
    Fail,

    /// <summary>
    /// The operation runs, then its caller gets an error: its effects (an optimizer update, a snapshot copy) happened,
    /// but whoever asked cannot tell — the device's side of a reply lost on the way.
    /// </summary>
    FailAfterRunning,
}
