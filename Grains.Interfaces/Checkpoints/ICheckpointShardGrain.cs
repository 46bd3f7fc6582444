namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// Snapshots of one stage of a job, key <see cref="Stages.StageKeys.Shard"/>. Placed away from the stage's own silo.
/// Accepts a snapshot in memory and writes it to the checkpoint store in the background, off the training path.
/// </summary>
[Alias("cluster.ICheckpointShardGrain")]
public interface ICheckpointShardGrain : IGrainWithStringKey
{
    /// <summary>Takes a snapshot at <paramref name="completedSteps"/> and starts writing it durably; returns at once.</summary>
    [Alias("Accept")]
    Task Accept(long epoch, long completedSteps, int stage, IReadOnlyList<UnitImage> units);

    /// <summary>Waits until the snapshot of <paramref name="completedSteps"/> is durable; its shard records.</summary>
    [Alias("WaitDurable")]
    Task<IReadOnlyList<ShardRecord>> WaitDurable(long epoch, long completedSteps);
}
