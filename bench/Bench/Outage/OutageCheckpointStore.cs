using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Bench.Outage;

/// <summary>A real checkpoint store whose every call fails at once while <see cref="StoreOutage"/> says it is down (connection refused), as a faulted task.</summary>
internal sealed class OutageCheckpointStore(ICheckpointStore inner, StoreOutage outage) : ICheckpointStore
{
    public string Description => "outage-injected " + inner.Description;

    public async Task WriteShardAsync(string jobId, long epoch, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        outage.ThrowIfDown(nameof(WriteShardAsync), jobId);
        await inner.WriteShardAsync(jobId, epoch, step, name, content, cancellationToken);
    }

    public async Task<byte[]> ReadShardAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default)
    {
        outage.ThrowIfDown(nameof(ReadShardAsync), jobId);
        return await inner.ReadShardAsync(jobId, epoch, step, name, cancellationToken);
    }

    public async Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        outage.ThrowIfDown(nameof(CommitManifestAsync), manifest.JobId);
        await inner.CommitManifestAsync(manifest, cancellationToken);
    }

    public async Task<IReadOnlyList<CheckpointManifest>> ListManifestsAsync(string jobId, CancellationToken cancellationToken = default)
    {
        outage.ThrowIfDown(nameof(ListManifestsAsync), jobId);
        return await inner.ListManifestsAsync(jobId, cancellationToken);
    }

    public async Task DeleteCheckpointAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        outage.ThrowIfDown(nameof(DeleteCheckpointAsync), manifest.JobId);
        await inner.DeleteCheckpointAsync(manifest, cancellationToken);
    }

    public async Task DeleteUncommittedAsync(string jobId, long beforeEpoch, long beforeStep, CancellationToken cancellationToken = default)
    {
        outage.ThrowIfDown(nameof(DeleteUncommittedAsync), jobId);
        await inner.DeleteUncommittedAsync(jobId, beforeEpoch, beforeStep, cancellationToken);
    }
}
