using System.Collections.Concurrent;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Tests;

/// <summary>
/// A real file-system store with faults a test can switch on: reads of a job's shards from some step on come back
/// with one byte flipped (a corrupt shard), the next write of a step fails (a writer dying mid-checkpoint), or any call
/// kind fails, hangs or succeeds-then-times-out through <see cref="StorageFaults.Checkpoints"/> (keyed by job id; call
/// kinds are the <c>nameof</c>s in <see cref="Calls"/>). Shared by every silo of the in-process cluster.
/// </summary>
public sealed class FaultyCheckpointStore(ICheckpointStore inner) : ICheckpointStore
{
    private static readonly ConcurrentDictionary<string, long> s_corruptFrom = new();
    private static readonly ConcurrentDictionary<(string Job, long Step), int> s_failWrites = new();
    private static readonly ConcurrentDictionary<string, Func<CheckpointManifest, ICheckpointStore, Task>> s_beforeCommit = new();

    /// <summary>Every call kind, for an outage of the whole store.</summary>
    public static readonly string[] Calls =
    [
        nameof(WriteShardAsync), nameof(ReadShardAsync), nameof(CommitManifestAsync), nameof(ListManifestsAsync),
        nameof(DeleteCheckpointAsync), nameof(DeleteUncommittedAsync),
    ];

    public static void CorruptReadsFrom(string jobId, long step) => s_corruptFrom[jobId] = step;

    public static void FailNextWriteOf(string jobId, long step) => s_failWrites[(jobId, step)] = 1;

    /// <summary>
    /// Runs <paramref name="action"/> (given the manifest about to be committed and the real store underneath) before
    /// every manifest commit of the job: another writer acting on the same store at that moment, e.g. a stale
    /// activation of the job in a split brain.
    /// </summary>
    public static void BeforeCommitOf(string jobId, Func<CheckpointManifest, ICheckpointStore, Task> action) => s_beforeCommit[jobId] = action;

    public static bool PendingWriteFailure(string jobId, long step) => s_failWrites.ContainsKey((jobId, step));

    private static StorageFaults Faults => StorageFaults.Checkpoints;

    public string Description => "faulty " + inner.Description;

    public Task WriteShardAsync(string jobId, long epoch, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        s_failWrites.TryRemove((jobId, step), out _)
            ? Task.FromException(new IOException($"injected: the writer of {jobId} step {step} died"))
            : Faults.Run(jobId, nameof(WriteShardAsync), () => inner.WriteShardAsync(jobId, epoch, step, name, content, cancellationToken));

    public async Task<byte[]> ReadShardAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default)
    {
        byte[] content = await Faults.Run(jobId, nameof(ReadShardAsync), () => inner.ReadShardAsync(jobId, epoch, step, name, cancellationToken));
        if (s_corruptFrom.TryGetValue(jobId, out long from) && step >= from)
            content[^1] ^= 0x40; // one flipped bit in the data
        return content;
    }

    public async Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        if (s_beforeCommit.TryGetValue(manifest.JobId, out var before)) await before(manifest, inner);
        await Faults.Run(manifest.JobId, nameof(CommitManifestAsync), () => inner.CommitManifestAsync(manifest, cancellationToken));
    }

    public Task<IReadOnlyList<CheckpointManifest>> ListManifestsAsync(string jobId, CancellationToken cancellationToken = default) =>
        Faults.Run(jobId, nameof(ListManifestsAsync), () => inner.ListManifestsAsync(jobId, cancellationToken));

    public Task DeleteCheckpointAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default) =>
        Faults.Run(manifest.JobId, nameof(DeleteCheckpointAsync), () => inner.DeleteCheckpointAsync(manifest, cancellationToken));

    public Task DeleteUncommittedAsync(string jobId, long beforeEpoch, long beforeStep, CancellationToken cancellationToken = default) =>
        Faults.Run(jobId, nameof(DeleteUncommittedAsync), () => inner.DeleteUncommittedAsync(jobId, beforeEpoch, beforeStep, cancellationToken));
}
