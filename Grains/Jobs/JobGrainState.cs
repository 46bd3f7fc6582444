using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Jobs;

/// <summary>
/// What a job persists: enough to carry on after the silo hosting it dies. Ids are append-only. Its size is O(1) in the
/// job's step count: losses beyond the tail live in <see cref="LossChunk"/> records.
/// </summary>
[GenerateSerializer, Alias("cluster.JobGrainState")]
public sealed class JobGrainState
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public long Epoch { get; set; }
    [Id(3)] public long CompletedSteps { get; set; }
    /// <summary>Legacy: the whole loss history, as saved before it moved to chunks (read, never written again).</summary>
    [Id(4)] public List<double> LossHistory { get; set; } = [];
    [Id(5)] public List<StagePlacement> Placement { get; set; } = [];
    [Id(6)] public long? LastCheckpointStep { get; set; }
    [Id(7)] public string? Error { get; set; }
    [Id(8)] public DateTimeOffset? SubmittedAt { get; set; }
    [Id(9)] public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Losses after the last sealed chunk: fewer than <see cref="JobStateWriter.LossChunkSize"/>.</summary>
    [Id(10)] public List<double> LossTail { get; set; } = [];

    /// <summary>Sealed loss chunks (<see cref="LossChunk"/> records 0 … n-1) that precede <see cref="LossTail"/>.</summary>
    [Id(11)] public int LossChunks { get; set; }

    /// <summary>
    /// The activation that claimed <see cref="Epoch"/> (its <see cref="JobStateWriter.ActivationId"/>): with the epoch, the
    /// identity writes are fenced by, so two activations that take the same epoch at once are told apart. Null in state
    /// saved before it existed (then the epoch alone decides).
    /// </summary>
    [Id(12)] public string? Owner { get; set; }

    /// <summary>
    /// A deleted job's tombstone: what <see cref="JobStateWriter.ClearAsync"/> leaves instead of removing the record, with
    /// an epoch past every claim the job had, so an activation that read the job before its delete (a false death
    /// verdict, a frozen silo that thaws) is fenced by it instead of writing the job back; a job submitted again under the
    /// same id goes on from that epoch. No spec, no losses, no chunks counted.
    /// </summary>
    [Id(13)] public bool Deleted { get; set; }

    /// <summary>
    /// Set by a coordinator whose silo shut down, as its last write (<see cref="CoordinatorHandOver"/>); cleared by the
    /// next activation's first placement. Null in state saved before it existed.
    /// </summary>
    [Id(14)] public CoordinatorHandOver? HandOver { get; set; }
}
