namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// Snapshots of one stage of a job, key <see cref="Stages.StageKeys.Shard"/>. Placed away from the stage's own silo.
/// Accepts a snapshot in memory and writes it to the checkpoint store in the background, off the training path.
/// </summary>
[Alias("cluster.ICheckpointShardGrain")]
public interface ICheckpointShardGrain : IGrainWithStringKey
{
    /// <summary>
    /// Takes a snapshot at <paramref name="completedSteps"/>, keeps it in memory as the latest, and when
    /// <paramref name="durable"/> starts writing it to the checkpoint store; returns at once.
    /// </summary>
    [Alias("Accept")]
    Task Accept(long epoch, long completedSteps, int stage, IReadOnlyList<UnitImage> units, bool durable);

    /// <summary>The completed-step count of the latest in-memory snapshot, or -1 when this shard holds none.</summary>
    [Alias("GetLatestStep")]
    Task<long> GetLatestStep();

    /// <summary>
    /// The completed-step counts of the in-memory snapshots held (the newest two: a failure during the snapshot of
    /// step N leaves some stages at N and others at N-1, and N-1 must still be restorable everywhere).
    /// </summary>
    [Alias("GetSnapshotSteps")]
    Task<long[]> GetSnapshotSteps();

    /// <summary>The in-memory snapshot of <paramref name="completedSteps"/>; null when it is not one of those held.</summary>
    [Alias("GetSnapshot")]
    Task<IReadOnlyList<UnitImage>?> GetSnapshot(long completedSteps);

    /// <summary>Waits until the snapshot of <paramref name="completedSteps"/> is durable; its shard records.</summary>
    [Alias("WaitDurable")]
    Task<IReadOnlyList<ShardRecord>> WaitDurable(long epoch, long completedSteps);
}
