using System.Text.Json;
using Cluster.Grains.Interfaces.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A manifest read back while a store lists a job's checkpoints. One that does not parse, or that names another job,
/// step or epoch than the shard set it was found in, is skipped with a warning: the listing then falls back to older
/// checkpoints instead of failing the restore. The manifest comes back stamped with its <see cref="CheckpointLayout"/>
/// (where it was found), so restore reads the shards beside it. Shared by every <see cref="ICheckpointStore"/>.
/// </summary>
internal static partial class ListedManifest
{
    /// <summary>The manifest in <paramref name="json"/>, found at <paramref name="location"/>; null (logged) when it is unusable.</summary>
    public static CheckpointManifest? Read(ReadOnlySpan<byte> json, string jobId, (long Step, long Epoch) set, string location, ILogger logger)
    {
        CheckpointManifest manifest;
        try
        {
            manifest = CheckpointManifestJson.Deserialize(json);
        }
        catch (JsonException e)
        {
            LogCorrupt(logger, location, e.Message);
            return null;
        }
        bool flat = set.Epoch == CheckpointNames.FlatEpoch;
        if (!string.Equals(manifest.JobId, jobId, StringComparison.Ordinal) || manifest.Step != set.Step || (!flat && manifest.Epoch != set.Epoch))
        {
            LogMisplaced(logger, location, manifest.JobId, manifest.Step, manifest.Epoch);
            return null;
        }
        return manifest with { Layout = flat ? CheckpointLayout.Flat : CheckpointLayout.EpochFolders };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping checkpoint manifest '{Location}': it cannot be parsed ({Problem})")]
    private static partial void LogCorrupt(ILogger logger, string location, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping checkpoint manifest '{Location}': it belongs to job '{JobId}' step {Step} epoch {Epoch}, not to its folder")]
    private static partial void LogMisplaced(ILogger logger, string location, string jobId, long step, long epoch);
}
