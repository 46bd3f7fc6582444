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
    /// <paramref name="durable"/> starts writing it to the checkpoint store; returns at once. <paramref name="stepLoss"/>
    /// is the loss of the step that produced the state (see <see cref="SnapshotRecord"/>), null when not known.
    /// </summary>
    [Alias("Accept")]
    Task Accept(long epoch, long completedSteps, int stage, IReadOnlyList<UnitImage> units, bool durable, double? stepLoss = null);

    /// <summary>
    /// One chunk of an image of the snapshot of <paramref name="completedSteps"/> (a unit whose image is more than one
    /// chunk), sent before the <see cref="Accept"/> whose <see cref="UnitImage.SeparateChunks"/> counts it. Held until
    /// that <see cref="Accept"/>; an <see cref="Accept"/> that finds a chunk missing fails, and the sender sends all again.
    /// </summary>
    [Alias("AcceptChunk")]
    Task AcceptChunk(long epoch, long completedSteps, UnitImageChunk chunk);

    /// <summary>The completed-step count of the latest in-memory snapshot, or -1 when this shard holds none.</summary>
    [Alias("GetLatestStep")]
    Task<long> GetLatestStep();

    /// <summary>
    /// The completed-step counts of the in-memory snapshots held (the newest two: a failure during the snapshot of
    /// step N leaves some stages at N and others at N-1, and N-1 must still be restorable everywhere).
    /// </summary>
    [Alias("GetSnapshotSteps")]
    Task<long[]> GetSnapshotSteps();

    /// <summary>The records of the in-memory snapshots held (those of <see cref="GetSnapshotSteps"/>), oldest first.</summary>
    [Alias("GetSnapshotRecords")]
    Task<SnapshotRecord[]> GetSnapshotRecords();

    /// <summary>The in-memory snapshot of <paramref name="completedSteps"/>; null when it is not one of those held.</summary>
    [Alias("GetSnapshot")]
    Task<IReadOnlyList<UnitImage>?> GetSnapshot(long completedSteps);

    /// <summary>
    /// Chunk <paramref name="index"/> (1 is the one after <see cref="UnitImage.Image"/>) of unit
    /// <paramref name="unitIndex"/>'s image of the snapshot of <paramref name="completedSteps"/> that
    /// <see cref="GetSnapshot"/> counted in <see cref="UnitImage.SeparateChunks"/>; null when it is no longer held.
    /// </summary>
    [Alias("GetSnapshotChunk")]
    Task<byte[]?> GetSnapshotChunk(long completedSteps, int unitIndex, int index);

    /// <summary>Waits until the snapshot of <paramref name="completedSteps"/> is durable; its shard records.</summary>
    [Alias("WaitDurable")]
    Task<IReadOnlyList<ShardRecord>> WaitDurable(long epoch, long completedSteps);

    /// <summary>
    /// The job ended (completed, failed or cancelled, its state durable): lets its durable writes finish, drops every
    /// in-memory copy and goes away, so a finished job holds no host memory. Ignored from an epoch older than the last
    /// one this holder saw (a stale activation of the job).
    /// </summary>
    [Alias("Release")]
    Task Release(long epoch);

    /// <summary>
    /// The job is about to move this holder's stage onto silo <paramref name="stageSilo"/>: a holder there moves away
    /// first, with what it holds (to a silo that hosts neither the stage now nor a lower-index holder, nor
    /// <paramref name="stageSilo"/>), so that while the stage moves its two copies of a step never share a silo. When it
    /// is moving, the steps of the copies it takes along (the next call reaches it on its new silo once they are there);
    /// null when it stays.
    /// </summary>
    [Alias("MakeRoom")]
    Task<long[]?> MakeRoom(long epoch, string stageSilo);

    /// <summary>
    /// Silo-internal, not operator-facing: silo <paramref name="siloAddress"/> (its parsable address), where the caller
    /// found this holder, is shutting down gracefully; a holder no longer there (it moved meanwhile) stays and returns
    /// false. A holder that keeps copies
    /// moves to another silo with them (one that hosts neither its stage nor a lower-index holder, never the leaving
    /// one) and returns true; its copies stay behind as a parcel on the leaving silo until the new activation has
    /// taken them, which the silo's shutdown waits for. A holder that keeps nothing returns false and goes with the silo.
    /// </summary>
    [Alias("LeaveShuttingDownSilo")]
    Task<bool> LeaveShuttingDownSilo(string siloAddress);
}
