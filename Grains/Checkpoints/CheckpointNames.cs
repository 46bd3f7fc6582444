using System.Globalization;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Names shared by the checkpoint stores: the step folder <c>step-&lt;step:D8&gt;</c>, the manifest file, and checks that
/// job ids and shard names are single, harmless path segments (they become file and blob names).
/// </summary>
internal static class CheckpointNames
{
    public const string ManifestName = "manifest.json";

    private const string StepPrefix = "step-";

    public static string StepFolder(long step) => StepPrefix + step.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>The step a folder name stands for; false for anything but the canonical <see cref="StepFolder"/> form.</summary>
    public static bool TryParseStepFolder(string folder, out long step)
    {
        step = 0;
        if (!folder.StartsWith(StepPrefix, StringComparison.Ordinal)) return false;
        ReadOnlySpan<char> digits = folder.AsSpan(StepPrefix.Length);
        if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9')) return false;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out step)) return false;
        // "step-1" and "step-00000001" must not both mean step 1.
        return string.Equals(folder, StepFolder(step), StringComparison.Ordinal);
    }

    public static void ValidateJobId(string jobId, string parameterName = "jobId") =>
        ValidateSegment(jobId, parameterName, "job id");

    public static void ValidateStep(long step, string parameterName = "step") =>
        ArgumentOutOfRangeException.ThrowIfNegative(step, parameterName);

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
