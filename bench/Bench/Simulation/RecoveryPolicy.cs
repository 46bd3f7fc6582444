namespace Cluster.Bench.Simulation;

/// <summary>
/// How a training job protects itself and recovers: durable checkpoints (interval, stall), in-memory snapshots
/// (every N steps, stall), how fast a crash and a hang are detected, what a restart costs and whether the whole job
/// restarts or only the failed stages move, and how many spare hosts stand by.
/// </summary>
internal sealed record RecoveryPolicy(
    string Name,
    double DurableIntervalMinutes,
    double DurableStallSeconds,
    int InMemoryEverySteps,
    double InMemoryStallSeconds,
    double CrashDetectionSeconds,
    double HangDetectionSeconds,
    double RestartSeconds,
    bool RestartWholeJob,
    int SpareHosts)
{
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!(DurableIntervalMinutes > 0)) problems.Add($"{Name}: durable checkpoint interval {DurableIntervalMinutes} min must be > 0.");
        if (DurableStallSeconds < 0 || InMemoryStallSeconds < 0) problems.Add($"{Name}: checkpoint stalls must be ≥ 0 s.");
        if (InMemoryEverySteps < 0) problems.Add($"{Name}: in-memory snapshot period {InMemoryEverySteps} must be ≥ 0 steps (0 = off).");
        if (CrashDetectionSeconds < 0 || HangDetectionSeconds < 0 || RestartSeconds < 0) problems.Add($"{Name}: detection and restart times must be ≥ 0 s.");
        if (SpareHosts < 0) problems.Add($"{Name}: spare hosts {SpareHosts} must be ≥ 0.");
        return problems;
    }

    /// <summary>
    /// Plain checkpoint-restart as run at Llama 3 scale: durable checkpoints every 15 min (15 s stall to copy state
    /// off the GPUs), a crash noticed in a minute, a hang only when the NCCL watchdog fires (10 min), and the whole
    /// job relaunched (4 min: scheduling 2,048 hosts, process start, NCCL initialisation) on the surviving and spare hosts.
    /// </summary>
    public static RecoveryPolicy CheckpointRestart { get; } = new("checkpoint-restart", 15, 15, 0, 0, 60, 600, 240, RestartWholeJob: true, SpareHosts: 32);

    /// <summary>The baseline with this control plane's detection: 250 ms heartbeats, silent for 1 s = lost; a hang by a step watchdog at 60 s.</summary>
    public static RecoveryPolicy FastDetection { get; } = CheckpointRestart with { Name = "+ fast detection", CrashDetectionSeconds = 1, HangDetectionSeconds = 60 };

    /// <summary>Only the failed stages move to spare hosts; the others keep running processes and state (60 s to re-place and rebuild communicators).</summary>
    public static RecoveryPolicy Replace { get; } = FastDetection with { Name = "+ re-place failed stages", RestartSeconds = 60, RestartWholeJob = false };

    /// <summary>
    /// In-memory snapshots every step, held by a peer on another host (0.25 s stall: the device-to-host copy overlaps
    /// the next step but for a short sync), durable checkpoints every hour from the snapshot (2 s stall).
    /// </summary>
    public static RecoveryPolicy InMemory { get; } = Replace with
    {
        Name = "+ in-memory snapshots every step", InMemoryEverySteps = 1, InMemoryStallSeconds = 0.25, DurableIntervalMinutes = 60, DurableStallSeconds = 2,
    };

    /// <summary>The best policy without spare hosts: a lost host's stages wait for its repair.</summary>
    public static RecoveryPolicy InMemoryNoSpares { get; } = InMemory with { Name = "in-memory, no spare hosts", SpareHosts = 0 };

    public static IReadOnlyList<RecoveryPolicy> All { get; } = [CheckpointRestart, FastDetection, Replace, InMemory, InMemoryNoSpares];
}
