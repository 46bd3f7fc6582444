using Cluster.Grains.Interfaces.Checkpoints;

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
}
