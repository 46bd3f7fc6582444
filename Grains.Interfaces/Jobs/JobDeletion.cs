namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// What <c>job delete</c> removed: the job's state and registry entry always; with <see cref="Purged"/> also
/// <see cref="CheckpointsDeleted"/> committed checkpoints and the job's event history.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.JobDeletion")]
public sealed record JobDeletion(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] bool Purged,
    [property: Id(3)] int CheckpointsDeleted,
    [property: Id(4)] int CheckpointsKept);
