using System.Net;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Cluster.Grains.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Tests;

/// <summary>
/// The checkpoint contract on S3 (a local s3rver), plus key layout, secrecy and what
/// the server does with conditional puts.
/// </summary>
[Collection("s3rver")]
public sealed class S3CheckpointStoreTests(S3rverFixture s3rver) : CheckpointStoreContract
{
    // Each test gets its own bucket (created by the store's factory) and a key prefix, as a shared bucket would have.
    private readonly string _bucket = $"ckpt-{Guid.NewGuid():N}"[..24];
    private readonly RecordingLogger<S3CheckpointStore> _logger = new();
    private S3CheckpointStore? _s3Store;
    private AmazonS3Client? _client;

    private S3CheckpointStoreOptions Options => new()
    {
        ServiceUrl = s3rver.ServiceUrl,
        BucketName = _bucket,
        KeyPrefix = "prod/",
        AccessKey = S3rverFixture.AccessKey,
        SecretKey = S3rverFixture.SecretKey,
    };

    private AmazonS3Client Client => _client ??= S3CheckpointStore.CreateClient(Options);

    protected override async Task<ICheckpointStore> CreateStoreAsync() => _s3Store = await S3CheckpointStore.CreateAsync(Options, _logger);

    protected override Task DisposeStoreAsync()
    {
        _s3Store?.Dispose();
        _client?.Dispose();
        return Task.CompletedTask;
    }

    protected override async Task WriteRawAsync(string relativeName, byte[] content)
    {
        using var body = new MemoryStream(content, writable: false);
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = "prod/" + relativeName, InputStream = body, UseChunkEncoding = false });
    }

    [Fact]
    public void Description_names_bucket_prefix_and_endpoint_but_no_secret()
    {
        Assert.Equal($"S3 bucket '{_bucket}' under 'prod/' at {s3rver.ServiceUrl.GetLeftPart(UriPartial.Authority)}", Store.Description);
        Assert.DoesNotContain(S3rverFixture.SecretKey, Store.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Objects_are_keyed_by_prefix_job_step_and_epoch_with_the_manifest_beside_the_shards()
    {
        string job = NewJobId();
        await WriteCheckpointAsync(job, 7);
        await WriteCheckpointAsync(job, 8, commit: false);

        var listed = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = $"prod/{job}/" });

        string[] expected =
        [
            $"prod/{job}/step-00000007/epoch-00000003/block.0.safetensors", $"prod/{job}/step-00000007/epoch-00000003/embed.safetensors",
            $"prod/{job}/step-00000007/epoch-00000003/head.safetensors", $"prod/{job}/step-00000007/epoch-00000003/manifest.json",
            $"prod/{job}/step-00000008/epoch-00000003/block.0.safetensors", $"prod/{job}/step-00000008/epoch-00000003/embed.safetensors",
            $"prod/{job}/step-00000008/epoch-00000003/head.safetensors",
        ];
        Assert.Equal(expected, listed.S3Objects.Select(o => o.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Missing_shard_error_names_the_object()
    {
        string job = NewJobId();

        var e = await Assert.ThrowsAsync<Kernels.Checkpoint.CheckpointCorruptException>(() => Store.ReadShardAsync(job, Epoch, 12, "head.safetensors"));

        Assert.Equal($"{_bucket}/prod/{job}/step-00000012/epoch-00000003/head.safetensors", e.Source);
    }

    [Fact]
    public async Task A_corrupt_manifest_object_is_skipped_and_reported()
    {
        string job = NewJobId();
        var good = await WriteCheckpointAsync(job, 1);
        await WriteCheckpointAsync(job, 2);
        string key = $"prod/{job}/step-00000002/epoch-00000003/manifest.json";
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = "not json", UseChunkEncoding = false });

        AssertManifestEqual(good, Assert.Single(await Store.ListManifestsAsync(job)));
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(key, StringComparison.Ordinal));
    }

    /// <summary>
    /// What s3rver 3.7.1 does with the conditional-put headers the store sends (AWS S3, MinIO and recent Ceph honour
    /// them with 412): it ignores them and overwrites. On s3rver the store's own read-before-write check is therefore
    /// all that guards a manifest (see docs/deploy.md). Fails — and should be updated — once s3rver honours them.
    /// </summary>
    [Fact]
    public async Task Finding_s3rver_ignores_If_None_Match_and_If_Match_on_PutObject()
    {
        string key = $"probe/{Guid.NewGuid():N}";
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = "first", UseChunkEncoding = false });

        var createAgain = await Client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = "second", IfNoneMatch = "*", UseChunkEncoding = false });
        var wrongETag = await Client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = "third", IfMatch = "\"0123456789abcdef0123456789abcdef\"", UseChunkEncoding = false });

        Assert.Equal(HttpStatusCode.OK, createAgain.HttpStatusCode);
        Assert.Equal(HttpStatusCode.OK, wrongETag.HttpStatusCode);
        using var read = await Client.GetObjectAsync(_bucket, key);
        using var reader = new StreamReader(read.ResponseStream, Encoding.UTF8);
        Assert.Equal("third", await reader.ReadToEndAsync());
    }
}
