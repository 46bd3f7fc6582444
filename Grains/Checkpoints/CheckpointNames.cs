using System.Globalization;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Names shared by the checkpoint stores: the step folder <c>step-&lt;step:D8&gt;</c>, the epoch folder inside it
/// <c>epoch-&lt;epoch:D8&gt;</c> (one shard set and manifest per epoch, see <see cref="CheckpointLayout"/>), the manifest
/// file, and checks that job ids and shard names are single, harmless path segments (they become file and blob names).
/// </summary>
internal static class CheckpointNames
{
    public const string ManifestName = "manifest.json";

    /// <summary>The epoch that stands for the legacy flat shard set of a step folder (<see cref="CheckpointLayout.Flat"/>): older than every epoch.</summary>
    public const long FlatEpoch = -1;

    private const string StepPrefix = "step-";
    private const string EpochPrefix = "epoch-";

    public static string StepFolder(long step) => StepPrefix + step.ToString("D8", CultureInfo.InvariantCulture);

    public static string EpochFolder(long epoch) => EpochPrefix + epoch.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>The step-relative folder of a shard set: <c>step-…/epoch-…/</c>, or <c>step-…/</c> for <see cref="FlatEpoch"/>; ends with '/'.</summary>
    public static string ShardSetFolder(long epoch, long step) =>
        epoch == FlatEpoch ? StepFolder(step) + "/" : $"{StepFolder(step)}/{EpochFolder(epoch)}/";

    /// <summary>The epoch whose shard set a manifest commits (<see cref="FlatEpoch"/> for a legacy flat checkpoint).</summary>
    public static long ShardSetEpoch(CheckpointManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Layout == CheckpointLayout.Flat ? FlatEpoch : manifest.Epoch;
    }

    /// <summary>The step a folder name stands for; false for anything but the canonical <see cref="StepFolder"/> form.</summary>
    public static bool TryParseStepFolder(string folder, out long step) => TryParse(folder, StepPrefix, out step);

    /// <summary>The epoch a folder name stands for; false for anything but the canonical <see cref="EpochFolder"/> form.</summary>
    public static bool TryParseEpochFolder(string folder, out long epoch) => TryParse(folder, EpochPrefix, out epoch);

    private static bool TryParse(string folder, string prefix, out long value)
    {
        value = 0;
        if (!folder.StartsWith(prefix, StringComparison.Ordinal)) return false;
        ReadOnlySpan<char> digits = folder.AsSpan(prefix.Length);
        if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9')) return false;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value)) return false;
        // "step-1" and "step-00000001" must not both mean step 1.
        return string.Equals(folder, prefix + value.ToString("D8", CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    public static void ValidateJobId(string jobId, string parameterName = "jobId") =>
        ValidateSegment(jobId, parameterName, "job id");

    public static void ValidateStep(long step, string parameterName = "step") =>
        ArgumentOutOfRangeException.ThrowIfNegative(step, parameterName);

    /// <summary>An epoch a shard set can be written in (never <see cref="FlatEpoch"/>: the flat layout is only read).</summary>
    public static void ValidateEpoch(long epoch, string parameterName = "epoch") =>
        ArgumentOutOfRangeException.ThrowIfNegative(epoch, parameterName);

    /// <summary>The arguments of a shard write: written in a real epoch (<paramref name="forRead"/> false), or read in one or in <see cref="FlatEpoch"/>.</summary>
    public static void ValidateShard(string jobId, long epoch, long step, string name, bool forRead)
    {
        ValidateJobId(jobId);
        if (forRead) ValidateReadEpoch(epoch);
        else ValidateEpoch(epoch);
        ValidateStep(step);
        ValidateShardName(name);
    }

    /// <summary>An epoch a shard set can be read or deleted in: a written one, or <see cref="FlatEpoch"/>.</summary>
    public static void ValidateReadEpoch(long epoch, string parameterName = "epoch") =>
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, FlatEpoch, parameterName);

    /// <summary>A shard name: one segment, not the manifest's name (that would commit the checkpoint), not hidden.</summary>
    public static void ValidateShardName(string name, string parameterName = "name")
    {
        ValidateSegment(name, parameterName, "shard name");
        if (string.Equals(name, ManifestName, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{ManifestName}' is reserved for the checkpoint's manifest.", parameterName);
        // Temporary files of the file-system store start with '.'; keeping shards visible keeps the two apart.
        if (name.StartsWith('.'))
            throw new ArgumentException($"Shard name '{name}' must not start with '.'.", parameterName);
    }

    public static void ValidateManifest(CheckpointManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ValidateJobId(manifest.JobId, nameof(manifest));
        ValidateStep(manifest.Step, nameof(manifest));
        ValidateEpoch(manifest.Epoch, nameof(manifest));
        ArgumentNullException.ThrowIfNull(manifest.Shards, nameof(manifest));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var shard in manifest.Shards)
        {
            ArgumentNullException.ThrowIfNull(shard, nameof(manifest));
            ValidateShardName(shard.Name, nameof(manifest));
            if (!seen.Add(shard.Name))
                throw new ArgumentException($"The manifest lists shard '{shard.Name}' twice.", nameof(manifest));
        }
    }

    private static void ValidateSegment(string value, string parameterName, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, parameterName);
        if (value is "." or ".." || value.Length > 200 ||
            value.AsSpan().IndexOfAny('/', '\\') >= 0 || value.Any(char.IsControl) || value != value.Trim())
        {
            throw new ArgumentException(
                $"The {what} '{value}' must be one path segment of at most 200 characters: no '/', '\\', control characters, " +
                "surrounding spaces, '.' or '..'.", parameterName);
        }
    }

    /// <summary>True when two manifests of one step name the same shards with the same sizes and hashes: one checkpoint.</summary>
    public static bool SameShards(CheckpointManifest a, CheckpointManifest b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.JobId == b.JobId && a.Step == b.Step && a.Shards.Count == b.Shards.Count
            && a.Shards.OrderBy(r => r.Name, StringComparer.Ordinal).SequenceEqual(b.Shards.OrderBy(r => r.Name, StringComparer.Ordinal));
    }
}
