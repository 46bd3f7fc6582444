namespace Cluster.Grains.Jobs;

/// <summary>How a job coordinator rides out failures: storage outages, lost nodes, repeated failures.</summary>
public sealed class JobCoordinatorOptions
{
    /// <summary>
    /// Steps a job may train past its newest durable point (a committed checkpoint recorded in saved job state) while
    /// storage is unreachable, before it waits in <c>WaitingForStorage</c>; 0 = ten of the job's checkpoint intervals
    /// (no limit for a job without periodic checkpoints). <value>0.</value>
    /// </summary>
    public int MaxStepsWithoutDurableCheckpoint { get; set; }

    /// <summary>First delay before a failed storage call (state write, checkpoint commit) is retried; it doubles per failure. <value>0.5 s.</value></summary>
    public TimeSpan StorageRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Cap of the storage retry delay. <value>30 s.</value></summary>
    public TimeSpan StorageRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First delay before a recovery that follows another failure without progress; it doubles per failure. <value>0.1 s.</value></summary>
    public TimeSpan RecoveryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Cap of the recovery delay. <value>5 s.</value></summary>
    public TimeSpan RecoveryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Failures (lost nodes, stages, messages) in a row without a completed step before the job is declared failed. <value>20.</value></summary>
    public int MaxRecoveriesWithoutProgress { get; set; } = 20;

    /// <summary>
    /// The window of the failure budget: failures older than this no longer count toward
    /// <see cref="MaxRecoveriesWithoutProgress"/> (a completed step clears the budget too). <value>10 min.</value>
    /// </summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a job waiting for capacity asks the scheduler again. <value>1 s.</value></summary>
    public TimeSpan CapacityPollPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The limit for a job whose checkpoint interval is <paramref name="checkpointInterval"/>.</summary>
    public long StepsWithoutDurableCheckpointFor(int checkpointInterval) =>
        MaxStepsWithoutDurableCheckpoint > 0 ? MaxStepsWithoutDurableCheckpoint
        : checkpointInterval > 0 ? 10L * checkpointInterval
        : long.MaxValue;

    /// <summary>Every problem, each naming the option and the fix; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxStepsWithoutDurableCheckpoint < 0)
            problems.Add($"{nameof(MaxStepsWithoutDurableCheckpoint)} = {MaxStepsWithoutDurableCheckpoint}: must be 0 (ten checkpoint intervals) or a positive step count.");
        Positive(nameof(StorageRetryDelay), StorageRetryDelay);
        Positive(nameof(RecoveryDelay), RecoveryDelay);
        Positive(nameof(CapacityPollPeriod), CapacityPollPeriod);
        if (FailureWindow < RecoveryMaxDelay)
            problems.Add($"{nameof(FailureWindow)} = {FailureWindow}: must be at least {nameof(RecoveryMaxDelay)} = {RecoveryMaxDelay} (e.g. 10 min), or no two failures would ever count together.");
        if (StorageRetryMaxDelay < StorageRetryDelay)
            problems.Add($"{nameof(StorageRetryMaxDelay)} = {StorageRetryMaxDelay}: must be at least {nameof(StorageRetryDelay)} = {StorageRetryDelay}.");
        if (RecoveryMaxDelay < RecoveryDelay)
            problems.Add($"{nameof(RecoveryMaxDelay)} = {RecoveryMaxDelay}: must be at least {nameof(RecoveryDelay)} = {RecoveryDelay}.");
        if (MaxRecoveriesWithoutProgress < 1)
            problems.Add($"{nameof(MaxRecoveriesWithoutProgress)} = {MaxRecoveriesWithoutProgress}: must be at least 1 (e.g. 20).");
        return problems;

        void Positive(string name, TimeSpan value)
        {
            if (value <= TimeSpan.Zero) problems.Add($"{name} = {value}: must be positive.");
        }
    }
}
