using System.Globalization;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Keys of the grains that hold a stage's in-memory snapshots away from the stage (<see cref="CheckpointShardGrain"/>):
/// holder 0 is the stage's checkpoint shard (<see cref="StageKeys.Shard"/>, which also writes durable checkpoints),
/// holders 1… are "&lt;shard key&gt;/h&lt;index&gt;" and exist only when a job asks for more than two failure domains.
/// </summary>
internal static class SnapshotHolders
{
    /// <summary>Holders besides the stage's own copy for a job spec's <c>SnapshotReplicas</c> (the stage's silo counts once).</summary>
    public static int For(int snapshotReplicas) => Math.Max(1, snapshotReplicas - 1);

    public static string Key(string jobId, int stage, int index) =>
        index == 0 ? StageKeys.Shard(jobId, stage) : $"{StageKeys.Shard(jobId, stage)}/h{index}";

    /// <summary>The keys of every holder of one stage for a job spec's <c>SnapshotReplicas</c>, holder 0 first.</summary>
    public static IEnumerable<string> Keys(string jobId, int stage, int snapshotReplicas) =>
        Enumerable.Range(0, For(snapshotReplicas)).Select(h => Key(jobId, stage, h));

    /// <summary>
    /// Holder 0's key for the stage whose key (<see cref="StageKeys.Stage"/>, any replica) is <paramref name="stageKey"/>:
    /// the holder a recovery asks, heir to the stage's copies when a move of the stage fails (<c>MigrationParcels</c>);
    /// null for a key that is not a stage's.
    /// </summary>
    public static string? FirstOfStage(string stageKey)
    {
        ArgumentNullException.ThrowIfNull(stageKey);
        string[] parts = stageKey.Split('/');
        return parts.Length == 3 && Number(parts[1], 'r', out _) && Number(parts[2], 's', out int stage) ? Key(parts[0], stage, 0) : null;
    }

    /// <summary>Job id, stage and holder index of a holder key; throws on a key that is not one.</summary>
    public static (string JobId, int Stage, int Index) Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string[] parts = key.Split('/');
        int index = 0;
        if (parts.Length is < 2 or > 3 || !Number(parts[1], 's', out int stage) || (parts.Length == 3 && !Number(parts[2], 'h', out index)))
            throw new ArgumentException($"'{key}' is not a snapshot holder key: use '<job>/s<stage>' or '<job>/s<stage>/h<index>'.", nameof(key));
        return (parts[0], stage, index);
    }

    private static bool Number(string part, char prefix, out int value)
    {
        value = 0;
        return part.Length >= 2 && part[0] == prefix
            && int.TryParse(part.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
