using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Checkpoints;

/// <summary>The checks every store makes when it commits and lists manifests, written once.</summary>
internal static class CheckpointCommits
{
    /// <summary>
    /// Refuses a manifest naming a shard that is not stored (<paramref name="storedBytes"/> gives null) or has another
    /// size: that would be a checkpoint restore cannot use.
    /// </summary>
    public static void RequireShards(CheckpointManifest manifest, Func<string, long?> storedBytes, Func<string, string> describe)
    {
        foreach (var shard in manifest.Shards)
        {
            if (storedBytes(shard.Name) is not { } bytes)
                throw new InvalidOperationException($"Cannot commit checkpoint {manifest.JobId}@{manifest.Step} (epoch {manifest.Epoch}): {describe(shard.Name)} is missing.");
            if (bytes != shard.Bytes)
                throw new InvalidOperationException(
                    $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step} (epoch {manifest.Epoch}): {describe(shard.Name)} has {bytes} bytes, the manifest says {shard.Bytes}.");
        }
    }

    /// <summary>
    /// A manifest is written once: committing again succeeds only when the one already there names the same shards
    /// with the same hashes (a retried commit whose answer was lost); anything else is refused.
    /// </summary>
    public static void RequireSameCheckpoint(CheckpointManifest manifest, ReadOnlySpan<byte> existingJson, string where)
    {
        var existing = CheckpointManifestJson.Deserialize(existingJson);
        if (!CheckpointNames.SameShards(existing, manifest))
            throw new InvalidOperationException(
                $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step} (epoch {manifest.Epoch}): a different manifest, committed by epoch {existing.Epoch}, " +
                $"is already at {where}; a manifest is written once.");
    }

    /// <summary>Listed manifests in the interface's order: by step, then legacy flat before the epochs, then by epoch.</summary>
    public static IReadOnlyList<CheckpointManifest> Ordered(List<CheckpointManifest> manifests)
    {
        manifests.Sort((a, b) =>
        {
            int byStep = a.Step.CompareTo(b.Step);
            return byStep != 0 ? byStep : CheckpointNames.ShardSetEpoch(a).CompareTo(CheckpointNames.ShardSetEpoch(b));
        });
        return manifests;
    }
}
