namespace Cluster.Bench.Simulation;

/// <summary>
/// The simulated fleet and job: hosts the job runs on (one placement unit per host: its GPUs form one
/// tensor-parallel group), the step time and state sizes (from the planner's layout of the 494B model on H100s
/// by default), the horizon and the bandwidths that restores use.
/// </summary>
internal sealed record FleetSetup(
    int JobHosts,
    int GpusPerHost,
    double StepSeconds,
    double Days,
    long StateBytesPerGpu,
    long CheckpointBytes,
    double StorageGBps,
    double PeerGBps,
    int HostsPerRack = 16)
{
    public double HorizonSeconds => Days * 86_400;

    /// <summary>Durable restore: the one stored copy read at the store's aggregate bandwidth, then fanned out to the replicas.</summary>
    public double DurableRestoreSeconds => CheckpointBytes / (StorageGBps * 1e9) + StateBytesPerGpu / (PeerGBps * 1e9);

    /// <summary>In-memory restore of a moved stage: its state from the peer that holds the snapshot.</summary>
    public double PeerRestoreSeconds => StateBytesPerGpu / (PeerGBps * 1e9);

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (JobHosts < 1) problems.Add($"job hosts = {JobHosts}: at least 1 (use --gpus a multiple of --gpus-per-host).");
        if (GpusPerHost < 1) problems.Add($"GPUs per host = {GpusPerHost}: at least 1.");
        if (!(StepSeconds > 0)) problems.Add($"step time = {StepSeconds} s: must be > 0.");
        if (!(Days > 0)) problems.Add($"days = {Days}: must be > 0.");
        if (StateBytesPerGpu < 0 || CheckpointBytes < 0) problems.Add("state sizes must be ≥ 0.");
        if (!(StorageGBps > 0) || !(PeerGBps > 0)) problems.Add("bandwidths must be > 0 GB/s.");
        if (HostsPerRack < 1) problems.Add($"hosts per rack = {HostsPerRack}: at least 1.");
        return problems;
    }
}
