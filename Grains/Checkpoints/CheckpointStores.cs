using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;

namespace Cluster.Grains.Checkpoints;

/// <summary>Reading a committed checkpoint's shards wherever its layout put them.</summary>
public static class CheckpointStores
{
    /// <summary>Reads shard <paramref name="name"/> of the checkpoint <paramref name="manifest"/> commits (either layout).</summary>
    public static Task<byte[]> ReadShardAsync(this ICheckpointStore store, CheckpointManifest manifest, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(manifest);
        return store.ReadShardAsync(manifest.JobId, CheckpointNames.ShardSetEpoch(manifest), manifest.Step, name, cancellationToken);
    }

    /// <summary>As <see cref="ReadShardAsync"/>, into chunks (a unit image of any size).</summary>
    public static Task<ChunkedBytes> ReadShardChunksAsync(this ICheckpointStore store, CheckpointManifest manifest, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(manifest);
        return store.ReadShardChunksAsync(manifest.JobId, CheckpointNames.ShardSetEpoch(manifest), manifest.Step, name, cancellationToken);
    }
}
