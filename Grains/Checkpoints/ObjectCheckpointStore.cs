using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// The checkpoint layout and commit/delete protocol of an object store (Azure Blob, S3): objects
/// <c>[prefix]&lt;jobId&gt;/step-&lt;step:D8&gt;/epoch-&lt;epoch:D8&gt;/&lt;shard&gt;</c> and, created last as the commit,
/// <c>…/manifest.json</c>. An upload is atomic (readers see the old object or the whole new one) and listings are
/// strongly consistent, so listing only manifests never shows a checkpoint whose shards are not all stored. A subclass
/// supplies the five object operations; the layout, the fencing and the checks live here, once.
/// </summary>
public abstract class ObjectCheckpointStore : ICheckpointStore
{
    private const int DeleteParallelism = 8;

    private readonly string _prefix;
    private readonly ILogger _logger;

    /// <param name="keyPrefix">Prepended to every object name ("" or ending with '/').</param>
    protected ObjectCheckpointStore(string keyPrefix, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentNullException.ThrowIfNull(logger);
        _prefix = keyPrefix;
        _logger = logger;
    }

    public abstract string Description { get; }

    /// <summary>What one object is called in messages ("blob", "object").</summary>
    protected abstract string ObjectKind { get; }

    /// <summary>Where <paramref name="key"/> is, for messages (container or bucket, then the name).</summary>
    protected abstract string Locate(string key);

    /// <summary>Uploads <paramref name="content"/> to <paramref name="key"/>, replacing what is there.</summary>
    protected abstract Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Creates <paramref name="key"/> only if it does not exist (If-None-Match: *); false when it already did.</summary>
    protected abstract Task<bool> CreateAsync(string key, byte[] content, CancellationToken cancellationToken);

    /// <summary>The object's bytes; null when it does not exist.</summary>
    protected abstract Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Uploads content held in chunks (any size) from a stream, replacing what is there. This default goes through
    /// <see cref="PutAsync"/> and so holds at most one array (about 2 GiB).
    /// </summary>
    protected virtual async Task PutChunksAsync(string key, ChunkedBytes content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Length > Array.MaxLength)
            throw new NotSupportedException($"{Description} writes an {ObjectKind} of at most {Array.MaxLength} bytes; '{Locate(key)}' is {content.Length} bytes.");
        await PutAsync(key, content.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The object's bytes in chunks (any size); null when it does not exist. This default reads one array.</summary>
    protected virtual async Task<ChunkedBytes?> GetChunksAsync(string key, CancellationToken cancellationToken) =>
        await GetAsync(key, cancellationToken).ConfigureAwait(false) is { } bytes ? ChunkedBytes.Of(bytes) : null;

    /// <summary>Every object whose name starts with <paramref name="prefix"/>, with its size.</summary>
    protected abstract IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Deletes one object; one that is not there is not an error.</summary>
    protected abstract Task DeleteAsync(string key, CancellationToken cancellationToken);

    public async Task WriteShardAsync(string jobId, long epoch, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: false);
        cancellationToken.ThrowIfCancellationRequested();
        await PutAsync(SetPrefix(jobId, epoch, step) + name, content, cancellationToken).ConfigureAwait(false);
    }

    public async Task WriteShardChunksAsync(string jobId, long epoch, long step, string name, ChunkedBytes content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: false);
        cancellationToken.ThrowIfCancellationRequested();
        await PutChunksAsync(SetPrefix(jobId, epoch, step) + name, content, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ChunkedBytes> ReadShardChunksAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: true);
        cancellationToken.ThrowIfCancellationRequested();
        string key = SetPrefix(jobId, epoch, step) + name;
        return await GetChunksAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointCorruptException(Locate(key), $"the shard {ObjectKind} is missing");
    }

    public async Task<byte[]> ReadShardAsync(string jobId, long epoch, long step, string name, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateShard(jobId, epoch, step, name, forRead: true);
        cancellationToken.ThrowIfCancellationRequested();
        string key = SetPrefix(jobId, epoch, step) + name;
        return await GetAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointCorruptException(Locate(key), $"the shard {ObjectKind} is missing");
    }

    public async Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateManifest(manifest);
        cancellationToken.ThrowIfCancellationRequested();
        string prefix = SetPrefix(manifest.JobId, manifest.Epoch, manifest.Step);

        // A manifest naming shards that are not there would be a checkpoint restore cannot use: refuse to commit it.
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var (key, size) in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            stored[key[prefix.Length..]] = size;
        CheckpointCommits.RequireShards(manifest, name => stored.TryGetValue(name, out long bytes) ? bytes : null, name => $"shard {ObjectKind} '{prefix}{name}'");

        // Invariant (fenced store): a manifest is created once, in its own epoch's shard set — never an overwrite.
        string manifestKey = prefix + CheckpointNames.ManifestName;
        if (await CreateAsync(manifestKey, CheckpointManifestJson.Serialize(manifest), cancellationToken).ConfigureAwait(false)) return;
        byte[] existing = await GetAsync(manifestKey, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Cannot commit checkpoint {manifest.JobId}@{manifest.Step}: its manifest {ObjectKind} '{Locate(manifestKey)}' appeared and vanished while committing.");
        CheckpointCommits.RequireSameCheckpoint(manifest, existing, $"{ObjectKind} '{Locate(manifestKey)}'");
    }

    public async Task<IReadOnlyList<CheckpointManifest>> ListManifestsAsync(string jobId, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        var manifests = new List<CheckpointManifest>();
        var listing = await ListSetsAsync(jobId, cancellationToken).ConfigureAwait(false);
        foreach (var set in listing.Committed)
        {
            string key = SetPrefix(jobId, set.Epoch, set.Step) + CheckpointNames.ManifestName;
            if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } json) continue; // deleted while we listed
            if (ListedManifest.Read(json, jobId, set, Locate(key), _logger) is { } manifest)
                manifests.Add(manifest);
        }
        return CheckpointCommits.Ordered(manifests);
    }

    public async Task DeleteCheckpointAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        CheckpointNames.ValidateJobId(manifest.JobId, nameof(manifest));
        cancellationToken.ThrowIfCancellationRequested();
        string prefix = SetPrefix(manifest.JobId, CheckpointNames.ShardSetEpoch(manifest), manifest.Step);
        // Uncommit first, so a failure half-way never leaves a listed checkpoint with shards missing.
        await DeleteAsync(prefix + CheckpointNames.ManifestName, cancellationToken).ConfigureAwait(false);
        var shards = new List<string>();
        await foreach (var (key, _) in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            // Only this set's own objects: a flat step folder also holds the epoch folders of other writers.
            if (key.IndexOf('/', prefix.Length) < 0) shards.Add(key);
        }
        await DeleteAllAsync(shards, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteUncommittedAsync(string jobId, long beforeEpoch, long beforeStep, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        var listing = await ListSetsAsync(jobId, cancellationToken).ConfigureAwait(false);
        await DeleteAllAsync(listing.Uncommitted(beforeEpoch, beforeStep), cancellationToken).ConfigureAwait(false);
    }

    private string SetPrefix(string jobId, long epoch, long step) => $"{_prefix}{jobId}/{CheckpointNames.ShardSetFolder(epoch, step)}";

    /// <summary>The job's shard sets: the objects of each, and which are committed.</summary>
    private async Task<ShardSetListing> ListSetsAsync(string jobId, CancellationToken cancellationToken)
    {
        string jobPrefix = _prefix + jobId + "/";
        var listing = new ShardSetListing(jobPrefix);
        await foreach (var (key, _) in ListAsync(jobPrefix, cancellationToken).ConfigureAwait(false))
            listing.Add(key);
        return listing;
    }

    private Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = cancellationToken },
            async (key, token) => await DeleteAsync(key, token).ConfigureAwait(false));
}
