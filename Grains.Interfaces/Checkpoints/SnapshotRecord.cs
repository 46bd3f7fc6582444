namespace Cluster.Grains.Interfaces.Checkpoints;

/// <summary>
/// What an in-memory snapshot copy records beside the state: the completed-step count it holds, the epoch that took it,
/// and the loss of the step that produced it (step <see cref="Step"/> − 1; null for a copy taken when the stage was
/// configured, of a step the job had counted before). Between two saves of the job's state these records are the job's
/// per-step progress: a coordinator that lost its unsaved count takes it back from them (see <c>RecoveryPoint</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.SnapshotRecord")]
public sealed record SnapshotRecord(
    [property: Id(0)] long Step,
    [property: Id(1)] long Epoch,
    [property: Id(2)] double? StepLoss);
