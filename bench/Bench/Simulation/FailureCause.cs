namespace Cluster.Bench.Simulation;

/// <summary>
/// One root cause of unexpected job interruptions: how often it happened, how it shows (a crash is seen at once, a
/// hang only when a timeout fires), whether it takes a host out of service and for how long, and whether the
/// in-memory snapshots can still be trusted afterwards (not after silent data corruption), and whether it takes down
/// every process of the job at once (<paramref name="JobWide"/>: every in-memory copy is gone, only durable state is left).
/// </summary>
internal sealed record FailureCause(string Component, string Category, int Count, bool Hangs, double RepairHours, bool CorruptsState = false, bool JobWide = false)
{
    public bool LosesHost => RepairHours > 0;

    /// <summary>
    /// Llama 3 405B pre-training, 54 days on 16,384 H100s: 419 unexpected interruptions by root cause ("The Llama 3
    /// Herd of Models", 2024, Table 5; counts as published). Repair times and hang/crash are this simulator's
    /// assumptions: hardware that fails takes its host out until repaired or swapped; network faults and NCCL
    /// watchdog timeouts show up as hangs.
    /// </summary>
    public static IReadOnlyList<FailureCause> Llama3 { get; } =
    [
        new("Faulty GPU", "faulty GPU", 148, Hangs: false, RepairHours: 24),
        new("GPU HBM3 memory", "GPU HBM3", 72, Hangs: false, RepairHours: 24),
        new("Software bug", "software", 54, Hangs: false, RepairHours: 0),
        new("Network switch/cable", "network", 35, Hangs: true, RepairHours: 2),
        new("Host maintenance (unplanned)", "host", 32, Hangs: false, RepairHours: 12),
        new("GPU SRAM memory", "other GPU", 19, Hangs: false, RepairHours: 24),
        new("GPU system processor", "other GPU", 17, Hangs: false, RepairHours: 24),
        new("NIC", "network", 7, Hangs: true, RepairHours: 12),
        new("NCCL watchdog timeouts", "unknown", 7, Hangs: true, RepairHours: 0),
        new("Silent data corruption", "other GPU", 6, Hangs: false, RepairHours: 24, CorruptsState: true),
        new("GPU thermal interface + sensor", "other GPU", 6, Hangs: false, RepairHours: 24),
        new("SSD", "host", 3, Hangs: false, RepairHours: 12),
        new("Power supply", "host", 3, Hangs: false, RepairHours: 12),
        new("Server chassis", "host", 2, Hangs: false, RepairHours: 12),
        new("IO expansion board", "host", 2, Hangs: false, RepairHours: 12),
        new("Dependency", "software", 2, Hangs: false, RepairHours: 0),
        new("CPU", "host", 2, Hangs: false, RepairHours: 12),
        new("System memory", "host", 2, Hangs: false, RepairHours: 12),
    ];

    /// <summary>The report's categories, in table order.</summary>
    public static IReadOnlyList<string> Categories { get; } = ["faulty GPU", "GPU HBM3", "other GPU", "software", "network", "host", "unknown"];
}
