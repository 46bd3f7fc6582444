using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Checkpoints in an S3 bucket (AWS or any S3-compatible server): objects <c>[prefix]&lt;jobId&gt;/step-&lt;step:D8&gt;/&lt;shard&gt;</c>
/// and, put last as the commit, <c>…/manifest.json</c>. A PutObject is atomic (readers see the old object or the whole
/// new one) and S3 lists are strongly consistent after writes (AWS since 12/2020), so listing only manifest keys never
/// shows a checkpoint whose shards are not all stored. Manifest puts are conditional (If-None-Match: * to create,
/// If-Match: ETag to replace), and a manifest is never replaced by one of an older epoch: a stale writer cannot
/// overwrite a newer writer's commit.
/// </summary>
public sealed partial class S3CheckpointStore : ICheckpointStore, IDisposable
{
    private const int DeleteParallelism = 8;
    private const int CommitAttempts = 4;

    private readonly IAmazonS3 _s3;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly bool _conditionalWrites;
    private readonly ILogger _logger;

    public S3CheckpointStore(IAmazonS3 s3, S3CheckpointStoreOptions options, ILogger<S3CheckpointStore>? logger = null)
        : this(s3, options, ownsClient: false, logger)
    {
    }

    private S3CheckpointStore(IAmazonS3 s3, S3CheckpointStoreOptions options, bool ownsClient, ILogger<S3CheckpointStore>? logger)
    {
        ArgumentNullException.ThrowIfNull(s3);
        ArgumentNullException.ThrowIfNull(options);
        _s3 = s3;
        _ownsClient = ownsClient;
        _bucket = options.BucketName;
        _prefix = options.KeyPrefix;
        _conditionalWrites = options.ConditionalWrites;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        string endpoint = options.ServiceUrl is { } url ? url.GetLeftPart(UriPartial.Authority) : $"AWS S3 ({options.Region})";
        Description = $"S3 bucket '{_bucket}'{(_prefix.Length > 0 ? $" under '{_prefix}'" : "")} at {endpoint}";
    }

    /// <summary>Connects as <paramref name="options"/> say and, if they ask, creates the bucket when it does not exist.</summary>
    public static async Task<S3CheckpointStore> CreateAsync(
        S3CheckpointStoreOptions options, ILogger<S3CheckpointStore>? logger = null, CancellationToken cancellationToken = default)
    {
        var client = CreateClient(options);
        try
        {
            if (options.CreateBucket) await EnsureBucketAsync(client, options.BucketName, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        return new S3CheckpointStore(client, options, ownsClient: true, logger);
    }

    /// <inheritdoc cref="CreateAsync"/>
    public static S3CheckpointStore Create(S3CheckpointStoreOptions options, ILogger<S3CheckpointStore>? logger = null) =>
        CreateAsync(options, logger).GetAwaiter().GetResult();

    /// <summary>An S3 client for <paramref name="options"/>: path-style, checksums only where S3 requires them.</summary>
    public static AmazonS3Client CreateClient(S3CheckpointStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid S3 checkpoint store options: " + string.Join(" ", problems), nameof(options));
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            // The SDK's defaults (CRC32 trailers, aws-chunked streaming signatures) are not understood by every
            // S3-compatible server — s3rver stores the chunk framing as content: checksums only where S3 requires
            // them, and puts send plain signed bodies (UseChunkEncoding = false).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { } url) config.ServiceURL = url.ToString();
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public string Description { get; }

    public async Task WriteShardAsync(string jobId, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        CheckpointNames.ValidateShardName(name);
        cancellationToken.ThrowIfCancellationRequested();
        using var body = new MemoryStream(content.ToArray(), writable: false);
        await _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = Key(jobId, step, name),
            InputStream = body,
            AutoCloseStream = false,
            UseChunkEncoding = false, // see CreateClient: plain signed bodies, which every S3-compatible server reads
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> ReadShardAsync(string jobId, long step, string name, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        CheckpointNames.ValidateShardName(name);
        cancellationToken.ThrowIfCancellationRequested();
        string key = Key(jobId, step, name);
        return (await GetAsync(key, cancellationToken).ConfigureAwait(false))?.Content
            ?? throw new CheckpointCorruptException($"{_bucket}/{key}", "the shard object is missing");
    }

    public async Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateManifest(manifest);
        cancellationToken.ThrowIfCancellationRequested();
        string prefix = StepPrefix(manifest.JobId, manifest.Step);

        // A manifest naming shards that are not there would be a checkpoint restore cannot use: refuse to commit it.
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var item in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            stored[item.Key[prefix.Length..]] = item.Size ?? -1;
        foreach (var shard in manifest.Shards)
        {
            if (!stored.TryGetValue(shard.Name, out long bytes))
                throw new InvalidOperationException($"Cannot commit checkpoint {manifest.JobId}@{manifest.Step}: shard object '{prefix}{shard.Name}' is missing.");
            if (bytes != shard.Bytes)
                throw new InvalidOperationException(
                    $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step}: shard object '{prefix}{shard.Name}' has {bytes} bytes, the manifest says {shard.Bytes}.");
        }

        byte[] json = CheckpointManifestJson.Serialize(manifest);
        string key = prefix + CheckpointNames.ManifestName;
        for (int attempt = 1; ; attempt++)
        {
            var existing = await GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                if (existing.Content.AsSpan().SequenceEqual(json)) return; // the same commit again (a retry after a lost answer)
                long existingEpoch = EpochOf(existing.Content);
                if (existingEpoch > manifest.Epoch)
                {
                    throw new InvalidOperationException(
                        $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step} of epoch {manifest.Epoch}: epoch {existingEpoch} has already committed that step (a stale writer).");
                }
            }
            var put = new PutObjectRequest
            {
                BucketName = _bucket,
                Key = key,
                InputStream = new MemoryStream(json, writable: false),
                ContentType = "application/json",
                UseChunkEncoding = false,
            };
            if (_conditionalWrites)
            {
                if (existing is null) put.IfNoneMatch = "*";
                else put.IfMatch = existing.ETag;
            }
            try
            {
                await _s3.PutObjectAsync(put, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict && attempt < CommitAttempts)
            {
                // Another writer committed or replaced the manifest between our read and our put: decide again.
                LogCommitRaced(_logger, manifest.JobId, manifest.Step, attempt);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotImplemented)
            {
                throw new InvalidOperationException(
                    $"{Description} rejects conditional puts (If-None-Match/If-Match): set TrainingCluster:S3:ConditionalWrites=false for this server.", e);
            }
        }
    }

    public async Task<IReadOnlyList<CheckpointManifest>> ListManifestsAsync(string jobId, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        cancellationToken.ThrowIfCancellationRequested();
        var manifests = new List<CheckpointManifest>();
        var listing = await ListStepsAsync(jobId, cancellationToken).ConfigureAwait(false);
        foreach (long step in listing.Committed)
        {
            string key = StepPrefix(jobId, step) + CheckpointNames.ManifestName;
            if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } stored) continue; // deleted while we listed

            if (ListedManifest.Read(stored.Content, jobId, step, key, _logger) is { } manifest)
                manifests.Add(manifest);
        }
        manifests.Sort((a, b) => a.Step.CompareTo(b.Step));
        return manifests;
    }

    public async Task DeleteCheckpointAsync(string jobId, long step, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        cancellationToken.ThrowIfCancellationRequested();
        string prefix = StepPrefix(jobId, step);
        // Uncommit first, so a failure half-way never leaves a listed checkpoint with shards missing.
        await DeleteObjectAsync(prefix + CheckpointNames.ManifestName, cancellationToken).ConfigureAwait(false);
        var shards = new List<string>();
        await foreach (var item in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            shards.Add(item.Key);
        await DeleteObjectsAsync(shards, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteUncommittedAsync(string jobId, IReadOnlySet<long> keepSteps, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        ArgumentNullException.ThrowIfNull(keepSteps);
        cancellationToken.ThrowIfCancellationRequested();
        var listing = await ListStepsAsync(jobId, cancellationToken).ConfigureAwait(false);
        await DeleteObjectsAsync(listing.Uncommitted(keepSteps), cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_ownsClient) _s3.Dispose();
    }

    private static async Task EnsureBucketAsync(IAmazonS3 s3, string bucket, CancellationToken cancellationToken)
    {
        try
        {
            await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists" || e.StatusCode == HttpStatusCode.Conflict)
        {
            // there already
        }
    }

    private string StepPrefix(string jobId, long step) => $"{_prefix}{jobId}/{CheckpointNames.StepFolder(step)}/";

    private string Key(string jobId, long step, string name) => StepPrefix(jobId, step) + name;

    /// <summary>An object's bytes and ETag; null when it does not exist.</summary>
    private async Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            using var content = new MemoryStream(response.ContentLength > 0 ? (int)Math.Min(response.ContentLength, int.MaxValue) : 0);
            await response.ResponseStream.CopyToAsync(content, cancellationToken).ConfigureAwait(false);
            return new StoredObject(content.ToArray(), response.ETag);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The epoch a stored manifest was committed in; a manifest that does not parse counts as the oldest.</summary>
    private static long EpochOf(byte[] json)
    {
        try
        {
            return CheckpointManifestJson.Deserialize(json).Epoch;
        }
        catch (JsonException)
        {
            return long.MinValue;
        }
    }

    private async IAsyncEnumerable<S3Object> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            var response = await _s3.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.S3Objects ?? []) yield return item;
            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken)) yield break;
            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    /// <summary>The job's step folders: the keys of each, and the steps whose manifest is among them.</summary>
    private async Task<StepFolderListing> ListStepsAsync(string jobId, CancellationToken cancellationToken)
    {
        string jobPrefix = _prefix + jobId + "/";
        var listing = new StepFolderListing(jobPrefix);
        await foreach (var item in ListAsync(jobPrefix, cancellationToken).ConfigureAwait(false))
            listing.Add(item.Key);
        return listing;
    }

    private Task DeleteObjectsAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = cancellationToken },
            async (key, token) => await DeleteObjectAsync(key, token).ConfigureAwait(false));

    /// <summary>Deletes one object; deleting one that is not there is not an error (S3 answers 204 either way).</summary>
    private async Task DeleteObjectAsync(string key, CancellationToken cancellationToken) =>
        await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);

    private sealed record StoredObject(byte[] Content, string ETag);

    [LoggerMessage(Level = LogLevel.Information, Message = "Manifest of checkpoint {JobId}@{Step} changed while committing (attempt {Attempt}); deciding again")]
    private static partial void LogCommitRaced(ILogger logger, string jobId, long step, int attempt);
}
