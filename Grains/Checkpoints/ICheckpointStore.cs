using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Durable checkpoint storage. A checkpoint is a set of shard files plus a manifest; the manifest is written last and
/// atomically, and a checkpoint without a committed manifest is invisible to <see cref="ListManifestsAsync"/> — so a
/// writer that dies half-way never produces a checkpoint that restore could use. Implementations: the local file
/// system (embedded default) and Azure Blob storage; both pass the same contract tests.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Where checkpoints go, for logs and the console; never contains a secret.</summary>
    string Description { get; }

    /// <summary>Writes one shard durably (replacing any previous content of the same name).</summary>
    Task WriteShardAsync(string jobId, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Reads a shard; <see cref="Kernels.Checkpoint.CheckpointCorruptException"/> naming it when it is missing.</summary>
    Task<byte[]> ReadShardAsync(string jobId, long step, string name, CancellationToken cancellationToken = default);

    /// <summary>Makes the checkpoint visible, atomically. Call only after every shard it lists is durable.</summary>
    Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default);

    /// <summary>Committed checkpoints of a job, oldest step first. Uncommitted shard sets are never listed.</summary>
    Task<IReadOnlyList<CheckpointManifest>> ListManifestsAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Deletes a checkpoint: its manifest first (so it stops being listed), then its shards.</summary>
    Task DeleteCheckpointAsync(string jobId, long step, CancellationToken cancellationToken = default);

    /// <summary>Deletes shard sets of a job that never got a manifest (left by writers that died), except <paramref name="keepSteps"/>.</summary>
    Task DeleteUncommittedAsync(string jobId, IReadOnlySet<long> keepSteps, CancellationToken cancellationToken = default);
}
