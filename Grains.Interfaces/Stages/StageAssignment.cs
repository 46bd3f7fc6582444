using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Interfaces.Stages;

/// <summary>Tells a stage grain what to be: which slice of which replica of which job, on which node, at which epoch, restored from what.</summary>
[GenerateSerializer, Immutable, Alias("cluster.StageAssignment")]
public sealed record StageAssignment
{
    [Id(0)] public required JobSpec Job { get; init; }
    [Id(1)] public required int Replica { get; init; }
    [Id(2)] public required int Stage { get; init; }
    [Id(3)] public required long Epoch { get; init; }
    [Id(4)] public required string NodeId { get; init; }

    /// <summary>Model units per stage of the whole plan (embedding, blocks, head).</summary>
    [Id(5)] public required int[] UnitsPerStage { get; init; }

    /// <summary>Checkpoint to load; null starts from the initial weights (unless <see cref="RestoreFromMemoryStep"/>).</summary>
    [Id(6)] public CheckpointManifest? RestoreFrom { get; init; }

    /// <summary>Load the in-memory snapshot of this completed-step count from the stage's checkpoint shard instead.</summary>
    [Id(7)] public long? RestoreFromMemoryStep { get; init; }

    /// <summary>
    /// The job's replica ids in rank order (this stage's <see cref="Replica"/> among them). Rank r of R runs the global
    /// micro-batches [r·M/R, (r+1)·M/R) and all-reduces its gradients with the same stage of the other replicas.
    /// Empty means one replica.
    /// </summary>
    [Id(8)] public int[] ReplicaIds { get; init; } = [];

    /// <summary>
    /// Keys of the same stage in other replicas that survived and hold their own in-memory snapshots: restoring from
    /// memory tries this stage's own copy, then its checkpoint shard's, then these.
    /// </summary>
    [Id(9)] public string[] SnapshotPeers { get; init; } = [];
}
