namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A job's objects in an object store (blob names or S3 keys <c>&lt;jobPrefix&gt;step-&lt;step:D8&gt;/&lt;name&gt;</c>),
/// grouped by step folder, with the steps whose manifest is among them (committed). Shared by the object stores.
/// </summary>
internal sealed class StepFolderListing(string jobPrefix)
{
    /// <summary>Every object of each step folder, by step.</summary>
    public SortedDictionary<long, List<string>> Objects { get; } = [];

    /// <summary>The steps whose folder holds a manifest.</summary>
    public HashSet<long> Committed { get; } = [];

    /// <summary>Files <paramref name="name"/> (a full object name under the job's prefix); names outside a step folder are ignored.</summary>
    public void Add(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith(jobPrefix, StringComparison.Ordinal)) return;
        string rest = name[jobPrefix.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !CheckpointNames.TryParseStepFolder(rest[..slash], out long step)) return;
        if (!Objects.TryGetValue(step, out var names)) Objects[step] = names = [];
        names.Add(name);
        if (string.Equals(rest[(slash + 1)..], CheckpointNames.ManifestName, StringComparison.Ordinal)) Committed.Add(step);
    }

    /// <summary>The objects of every step folder that has no manifest and whose step is not in <paramref name="keepSteps"/>.</summary>
    public List<string> Uncommitted(IReadOnlySet<long> keepSteps) =>
        [.. Objects.Where(kv => !Committed.Contains(kv.Key) && !keepSteps.Contains(kv.Key)).SelectMany(kv => kv.Value)];
}
