using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Durable checkpoint storage. A checkpoint is a shard set plus a manifest; the manifest is written last and
/// atomically, and a checkpoint without a committed manifest is invisible to <see cref="ListManifestsAsync"/> — so a
/// writer that dies half-way never produces a checkpoint that restore could use. Implementations: the local file
/// system (embedded default), Azure Blob storage and S3; all pass the same contract tests.
/// <para>
/// Fenced (issue 12): every shard set belongs to one (step, epoch) — the job's epoch when it was written — and lives
/// in a folder of its own (<see cref="CheckpointLayout.EpochFolders"/>), so two live activations of one job after a
/// false death declaration never write, commit or delete each other's files. A manifest is written once (a
/// conditional create). Deletes name what they delete: one committed checkpoint, or the uncommitted shard sets older
/// than a point of the job's timeline, never a manifest's shards. Checkpoints written by earlier versions
/// (<see cref="CheckpointLayout.Flat"/>) are still listed, read and deleted.
/// </para>
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Where checkpoints go, for logs and the console; never contains a secret.</summary>
    string Description { get; }

    /// <summary>Writes one shard of the shard set (<paramref name="step"/>, <paramref name="epoch"/>) durably (replacing any previous content of the same name in that set).</summary>
    Task WriteShardAsync(string jobId, long epoch, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a shard of the shard set (<paramref name="step"/>, <paramref name="epoch"/>); epoch -1 reads a legacy flat
    /// checkpoint (see <see cref="CheckpointStores.ReadShardAsync"/>, which reads a manifest's shard wherever it is).
    /// <see cref="Kernels.Checkpoint.CheckpointCorruptException"/> naming it when it is missing.
    /// </summary>
    Task<byte[]> ReadShardAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="WriteShardAsync"/>, for a shard held in chunks (a unit image of any size; the stored bytes are the
    /// chunks in order). A store that writes only one array (this default) refuses a shard longer than an array holds.
    /// </summary>
    async Task WriteShardChunksAsync(string jobId, long epoch, long step, string name, ChunkedBytes content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Length > Array.MaxLength)
            throw new NotSupportedException($"Checkpoint store {Description} writes a shard of at most {Array.MaxLength} bytes; shard '{name}' is {content.Length} bytes (a unit over about 2 GiB of state): use the file-system store.");
        await WriteShardAsync(jobId, epoch, step, name, content.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>As <see cref="ReadShardAsync"/>, into chunks (a shard of any size where the store supports it; this default reads one array).</summary>
    async Task<ChunkedBytes> ReadShardChunksAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default) =>
        ChunkedBytes.Of(await ReadShardAsync(jobId, epoch, step, name, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Makes the checkpoint visible, atomically: the manifest of the shard set (<c>manifest.Step</c>,
    /// <c>manifest.Epoch</c>), created once. Call only after every shard it lists is durable. Committing again a
    /// manifest naming the same shards (a retry whose answer was lost) succeeds and changes nothing; a different one
    /// for the same shard set is refused.
    /// </summary>
    Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default);

    /// <summary>Committed checkpoints of a job, oldest step first (then oldest epoch). Uncommitted shard sets are never listed.</summary>
    Task<IReadOnlyList<CheckpointManifest>> ListManifestsAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes one committed checkpoint, as listed: its manifest first (so it stops being listed), then its own shard
    /// set — never another epoch's shard set of the same step.
    /// </summary>
    Task DeleteCheckpointAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the job's shard sets that have no manifest and are older than (<paramref name="beforeEpoch"/>,
    /// <paramref name="beforeStep"/>) in (epoch, step) order — left by writers that died or gave up. A writer passes its
    /// own newest commit, so a newer epoch's checkpoint in progress is never touched; legacy flat sets count as older than
    /// every epoch. <c>long.MaxValue, long.MaxValue</c> deletes every uncommitted set (a job being purged).
    /// </summary>
    Task DeleteUncommittedAsync(string jobId, long beforeEpoch, long beforeStep, CancellationToken cancellationToken = default);
}
