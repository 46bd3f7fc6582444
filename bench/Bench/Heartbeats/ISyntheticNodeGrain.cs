namespace Cluster.Bench.Heartbeats;

/// <summary>A node with no device: it registers and heartbeats like a real node grain, so the control plane's load can be measured alone.</summary>
[Alias("bench.ISyntheticNodeGrain")]
public interface ISyntheticNodeGrain : IGrainWithStringKey
{
    /// <summary>Registers with the scheduler and starts heartbeating (idempotent).</summary>
    [Alias("Start")]
    Task Start(string siloName);
}
