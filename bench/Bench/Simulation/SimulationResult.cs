namespace Cluster.Bench.Simulation;

/// <summary>
/// Where the wall-clock time of a simulated run went: useful training (the goodput's numerator), checkpoint and
/// snapshot stalls of the steps that were kept, time lost per failure category, and the unfinished step at the end.
/// </summary>
internal sealed record SimulationResult(
    RecoveryPolicy Policy,
    double HorizonSeconds,
    long Steps,
    double UsefulSeconds,
    double DurableStallSeconds,
    double SnapshotStallSeconds,
    double TailSeconds,
    IReadOnlyDictionary<string, LostTime> LostByCategory,
    int RestoresFromMemory,
    int RestoresFromDurable,
    long StagesMoved,
    int PlacementRefusals)
{
    /// <summary>Effective-training-time ratio: useful training time ÷ wall-clock time.</summary>
    public double Goodput => UsefulSeconds / HorizonSeconds;

    public double LostSeconds => LostByCategory.Values.Sum(l => l.Total);

    public int Interruptions => LostByCategory.Values.Sum(l => l.Interruptions);

    /// <summary>Every second accounted for once: useful + stalls + lost + tail = horizon (up to rounding).</summary>
    public double AccountedSeconds => UsefulSeconds + DurableStallSeconds + SnapshotStallSeconds + LostSeconds + TailSeconds;
}
