using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Checkpoints in an S3 bucket (AWS or any S3-compatible server), laid out and committed as
/// <see cref="ObjectCheckpointStore"/> says: objects <c>[prefix]&lt;jobId&gt;/step-&lt;step:D8&gt;/epoch-&lt;epoch:D8&gt;/&lt;shard&gt;</c>
/// and the manifest beside them, put last. A PutObject is atomic and S3 lists are strongly consistent after writes (AWS
/// since 12/2020). The manifest put is conditional (If-None-Match: *, created once); for a server that rejects the
/// header, <see cref="S3CheckpointStoreOptions.ConditionalWrites"/> off leaves only the read before the put, which a
/// concurrent writer of the same shard set could race (only the same epoch writes there). A shard of
/// <see cref="S3CheckpointStoreOptions.MultipartThresholdBytes"/> or more goes up as a multipart upload (see
/// <see cref="PutMultipartAsync"/>).
/// </summary>
public sealed partial class S3CheckpointStore : ObjectCheckpointStore, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly bool _conditionalWrites;
    private readonly long _multipartThreshold;
    private readonly long _partBytes;
    private readonly int _partConcurrency;
    private readonly ILogger _logger;

    public S3CheckpointStore(IAmazonS3 s3, S3CheckpointStoreOptions options, ILogger<S3CheckpointStore>? logger = null)
        : this(s3, options, ownsClient: false, logger)
    {
    }

    private S3CheckpointStore(IAmazonS3 s3, S3CheckpointStoreOptions options, bool ownsClient, ILogger<S3CheckpointStore>? logger)
        : base(options?.KeyPrefix ?? throw new ArgumentNullException(nameof(options)), (ILogger?)logger ?? NullLogger.Instance)
    {
        ArgumentNullException.ThrowIfNull(s3);
        var problems = options.Validate();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid S3 checkpoint store options: " + string.Join(" ", problems), nameof(options));
        _s3 = s3;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _multipartThreshold = options.MultipartThresholdBytes;
        _partBytes = options.PartSizeBytes;
        _partConcurrency = options.PartConcurrency;
        _ownsClient = ownsClient;
        _bucket = options.BucketName;
        _conditionalWrites = options.ConditionalWrites;
        string endpoint = options.ServiceUrl is { } url ? url.GetLeftPart(UriPartial.Authority) : $"AWS S3 ({options.Region})";
        Description = $"S3 bucket '{_bucket}'{(options.KeyPrefix.Length > 0 ? $" under '{options.KeyPrefix}'" : "")} at {endpoint}";
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

    /// <summary>
    /// An S3 client for <paramref name="options"/>: path-style, checksums only where S3 requires them;
    /// <paramref name="configure"/> may set more (a proxy, timeouts, the HTTP client factory).
    /// </summary>
    public static AmazonS3Client CreateClient(S3CheckpointStoreOptions options, Action<AmazonS3Config>? configure = null)
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
        configure?.Invoke(config);
        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public override string Description { get; }

    protected override string ObjectKind => "object";

    protected override string Locate(string key) => $"{_bucket}/{key}";

    protected override async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(content.ToArray(), writable: false);
        await _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            UseChunkEncoding = false, // see CreateClient: plain signed bodies, which every S3-compatible server reads
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams the chunks up in one PUT (its length known, so the body is signed plainly), or, from
    /// <see cref="S3CheckpointStoreOptions.MultipartThresholdBytes"/> on, as a multipart upload: any size S3 holds.
    /// </summary>
    protected override async Task PutChunksAsync(string key, ChunkedBytes content, CancellationToken cancellationToken)
    {
        if (content.Length >= _multipartThreshold)
        {
            await PutMultipartAsync(key, content, cancellationToken).ConfigureAwait(false);
            return;
        }
        await using var body = new ChunkedBytesStream(content);
        await _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            UseChunkEncoding = false, // see CreateClient
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads <paramref name="content"/> in parts (<see cref="S3MultipartPlan"/>), <see cref="S3CheckpointStoreOptions.PartConcurrency"/>
    /// at a time, each a window of the chunks (no copy); the SDK sends a part that failed again on its own (its body rewinds).
    /// Invariant (whole or nothing, no parts left behind): the object appears only when the upload completes, with every
    /// part; an upload that fails or is cancelled before that is aborted, so the bucket keeps (and bills) none of its
    /// parts. An abort that fails too is logged with the upload's id; a lifecycle rule (AbortIncompleteMultipartUpload,
    /// docs/deploy.md) is the backstop for those, and for a silo killed mid-upload.
    /// </summary>
    private async Task PutMultipartAsync(string key, ChunkedBytes content, CancellationToken cancellationToken)
    {
        var parts = S3MultipartPlan.Cut(content.Length, _partBytes);
        var initiated = await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key }, cancellationToken)
            .ConfigureAwait(false);
        string uploadId = initiated.UploadId;
        try
        {
            var etags = new PartETag[parts.Count];
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = _partConcurrency, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(parts, parallel, async (part, token) =>
            {
                await using var body = new ChunkedBytesStream(content, part.Offset, part.Length);
                var uploaded = await _s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumber = part.Number,
                    PartSize = part.Length,
                    IsLastPart = part.Number == parts.Count,
                    InputStream = body,
                    UseChunkEncoding = false, // see CreateClient
                }, token).ConfigureAwait(false);
                etags[part.Number - 1] = new PartETag(part.Number, uploaded.ETag);
            }).ConfigureAwait(false);
            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = [.. etags],
            }, cancellationToken).ConfigureAwait(false);
            LogMultipartUploaded(_logger, Locate(key), parts.Count, content.Length);
        }
        catch (Exception e)
        {
            await AbortAsync(key, uploadId, e).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Aborts an upload that failed (not cancellable: the cancelled caller's parts must go too); a failure is logged, not thrown over the cause.</summary>
    private async Task AbortAsync(string key, string uploadId, Exception cause)
    {
        try
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }, CancellationToken.None)
                .ConfigureAwait(false);
            LogMultipartAborted(_logger, Locate(key), uploadId, Jobs.ShortError.Of(cause));
        }
        catch (Exception e)
        {
            LogMultipartAbortFailed(_logger, e, Locate(key), uploadId, Jobs.ShortError.Of(cause));
        }
    }

    /// <summary>Streams the object down into chunks: any size.</summary>
    protected override async Task<ChunkedBytes?> GetChunksAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return await ChunkedBytes.ReadAsync(response.ResponseStream, response.ContentLength, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// A read first (servers that ignore If-None-Match, like s3rver, would otherwise overwrite), then the put —
    /// conditional where the server honours it, which closes the window between the two.
    /// </summary>
    protected override async Task<bool> CreateAsync(string key, byte[] content, CancellationToken cancellationToken)
    {
        if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is not null) return false;
        using var body = new MemoryStream(content, writable: false);
        var put = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            ContentType = "application/json",
            UseChunkEncoding = false,
        };
        if (_conditionalWrites) put.IfNoneMatch = "*";
        try
        {
            await _s3.PutObjectAsync(put, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            return false;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotImplemented)
        {
            throw new InvalidOperationException(
                $"{Description} rejects conditional puts (If-None-Match): set TrainingCluster:S3:ConditionalWrites=false for this server.", e);
        }
    }

    protected override async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            using var content = new MemoryStream(response.ContentLength > 0 ? (int)Math.Min(response.ContentLength, int.MaxValue) : 0);
            await response.ResponseStream.CopyToAsync(content, cancellationToken).ConfigureAwait(false);
            return content.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    protected override async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            var response = await _s3.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.S3Objects ?? []) yield return (item.Key, item.Size ?? -1);
            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken)) yield break;
            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    /// <summary>S3 answers 204 whether or not the object was there.</summary>
    protected override async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);

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
}
