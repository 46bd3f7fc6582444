namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A job's checkpoint files (file paths or object names relative to nothing in particular, all under
/// <c>jobPrefix</c>), grouped by shard set: <c>step-&lt;s&gt;/epoch-&lt;e&gt;/&lt;name&gt;</c> is set (s, e), and
/// <c>step-&lt;s&gt;/&lt;name&gt;</c> the legacy flat set (s, <see cref="CheckpointNames.FlatEpoch"/>). A set is committed when
/// its manifest is among its files. Names that fit neither form are ignored. Shared by every store.
/// </summary>
internal sealed class ShardSetListing(string jobPrefix)
{
    /// <summary>Every file of each shard set, by (step, epoch).</summary>
    public SortedDictionary<(long Step, long Epoch), List<string>> Files { get; } = [];

    /// <summary>The shard sets whose manifest is among their files.</summary>
    public HashSet<(long Step, long Epoch)> Committed { get; } = [];

    /// <summary>Files <paramref name="name"/> (a full name under the job's prefix, '/'-separated).</summary>
    public void Add(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith(jobPrefix, StringComparison.Ordinal)) return;
        string[] parts = name[jobPrefix.Length..].Split('/');
        if (parts.Length is < 2 or > 3 || !CheckpointNames.TryParseStepFolder(parts[0], out long step)) return;
        long epoch = CheckpointNames.FlatEpoch;
        if (parts.Length == 3 && !CheckpointNames.TryParseEpochFolder(parts[1], out epoch)) return;
        if (parts[^1].Length == 0) return;
        var set = (step, epoch);
        if (!Files.TryGetValue(set, out var names)) Files[set] = names = [];
        names.Add(name);
        if (string.Equals(parts[^1], CheckpointNames.ManifestName, StringComparison.Ordinal)) Committed.Add(set);
    }

    /// <summary>
    /// The files of every shard set without a manifest that is older than (<paramref name="beforeEpoch"/>,
    /// <paramref name="beforeStep"/>) in (epoch, step) order — the order of a job's timeline, since a rewind or a new
    /// activation starts a new epoch. Legacy flat sets count as older than every epoch.
    /// </summary>
    public List<string> Uncommitted(long beforeEpoch, long beforeStep) =>
        [.. UncommittedSets(beforeEpoch, beforeStep).SelectMany(set => Files[set])];

    /// <summary>The shard sets <see cref="Uncommitted"/> returns the files of.</summary>
    public List<(long Step, long Epoch)> UncommittedSets(long beforeEpoch, long beforeStep) =>
        [.. Files.Keys.Where(set => !Committed.Contains(set) && IsBefore(set, beforeEpoch, beforeStep))];

    private static bool IsBefore((long Step, long Epoch) set, long epoch, long step) =>
        set.Epoch < epoch || (set.Epoch == epoch && set.Step < step);
}
