using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Cluster.Grains.Checkpoints;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Tests;

/// <summary>
/// Shards from the multipart threshold on go up in parts (so one may exceed the 5 GiB of a PutObject): read back byte
/// for byte; a part that fails once is sent again alone; an upload that fails for good or is cancelled is aborted and
/// leaves no shard. Against a local s3rver, through a transport that fails parts on purpose; parts of 5 MiB (S3's
/// smallest) stand for the 64 MiB default.
/// </summary>
[Collection("s3rver")]
public sealed class S3MultipartUploadTests(S3rverFixture s3rver) : IAsyncLifetime
{
    private const long Epoch = 2;
    private const long Step = 30;
    private const string Shard = "block.0.safetensors";
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private readonly string _bucket = $"mpu-{Guid.NewGuid():N}"[..24];
    private readonly string _job = $"job-{Guid.NewGuid():N}"[..16];
    private readonly FaultyS3Transport _transport = new();
    private readonly RecordingLogger<S3CheckpointStore> _logger = new();
    private AmazonS3Client? _client;
    private S3CheckpointStore? _store;

    private S3CheckpointStoreOptions Options => new()
    {
        ServiceUrl = s3rver.ServiceUrl,
        BucketName = _bucket,
        AccessKey = S3rverFixture.AccessKey,
        SecretKey = S3rverFixture.SecretKey,
        MultipartThresholdBytes = 5L << 20,
        PartSizeBytes = 5L << 20,
        PartConcurrency = 2,
    };

    private S3CheckpointStore Store => _store!;

    public async Task InitializeAsync()
    {
        using (var plain = S3CheckpointStore.CreateClient(Options))
            await plain.PutBucketAsync(new PutBucketRequest { BucketName = _bucket });
        _client = S3CheckpointStore.CreateClient(Options, config => config.HttpClientFactory = new FaultyS3HttpClientFactory(_transport));
        _store = new S3CheckpointStore(_client, Options, _logger);
    }

    public Task DisposeAsync()
    {
        _store?.Dispose();
        _client?.Dispose();
        _transport.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>12 MiB and 7 bytes of seeded noise in 3 MiB chunks, so parts and chunks do not line up.</summary>
    private static ChunkedBytes Image(long length = (12L << 20) + 7)
    {
        var chunks = ChunkedBytes.Allocate(length, 3 << 20);
        var random = new Random(1729);
        foreach (var chunk in chunks) random.NextBytes(chunk);
        return new ChunkedBytes(chunks);
    }

    private Task Write(ChunkedBytes image, CancellationToken cancellationToken = default) =>
        Store.WriteShardChunksAsync(_job, Epoch, Step, Shard, image, cancellationToken).WaitAsync(s_deadline, CancellationToken.None);

    private async Task AssertNoShard()
    {
        var e = await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardChunksAsync(_job, Epoch, Step, Shard));
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shard_from_the_threshold_on_goes_up_in_parts_and_reads_back_byte_for_byte()
    {
        var image = Image();

        await Write(image);

        Assert.Equal([1, 2, 3], _transport.PartsSent.Order());
        Assert.Single(_transport.Requests, r => r.Method == "POST" && r.Query.Contains("uploads", StringComparison.Ordinal));
        Assert.Single(_transport.Requests, r => r.Method == "POST" && r.Query.Contains("uploadId=", StringComparison.Ordinal));
        Assert.False(_transport.AbortSent);
        var read = await Store.ReadShardChunksAsync(_job, Epoch, Step, Shard);
        Assert.Equal(image.Length, read.Length);
        Assert.Equal(image.Sha256Hex(), read.Sha256Hex());
    }

    [Fact]
    public async Task A_shard_under_the_threshold_is_one_put()
    {
        var image = Image((5L << 20) - 1);

        await Write(image);

        Assert.Empty(_transport.PartsSent);
        Assert.DoesNotContain(_transport.Requests, r => r.Method == "POST");
        Assert.Equal(image.Sha256Hex(), (await Store.ReadShardChunksAsync(_job, Epoch, Step, Shard)).Sha256Hex());
    }

    [Theory]
    [InlineData("refused")]
    [InlineData("answer lost")]
    public async Task A_part_that_fails_once_is_sent_again_alone_and_the_shard_is_whole(string fault)
    {
        if (fault == "refused") _transport.Refuse(part: 2, HttpStatusCode.ServiceUnavailable, times: 1);
        else _transport.LoseAnswer(part: 2);
        var image = Image();

        await Write(image);

        Assert.Equal([1, 2, 2, 3], _transport.PartsSent.Order());
        Assert.False(_transport.AbortSent);
        Assert.Equal(image.Sha256Hex(), (await Store.ReadShardChunksAsync(_job, Epoch, Step, Shard)).Sha256Hex());
    }

    [Fact]
    public async Task A_part_refused_for_good_aborts_the_upload_and_leaves_no_shard()
    {
        _transport.Refuse(part: 2, HttpStatusCode.Forbidden);

        var e = await Assert.ThrowsAsync<AmazonS3Exception>(() => Write(Image()));

        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.True(_transport.AbortSent, "the failed upload was not aborted");
        await AssertNoShard();
        // s3rver 3.7.1 does not implement AbortMultipartUpload (405): the store says which upload's parts remain and how they go.
        var (level, message) = Assert.Single(_logger.Entries, e => e.Message.Contains("multipart upload", StringComparison.Ordinal));
        Assert.True(level == LogLevel.Information || (level == LogLevel.Warning && message.Contains("AbortIncompleteMultipartUpload", StringComparison.Ordinal)), message);
        Assert.True(message.Contains("injected by FaultyS3Transport", StringComparison.Ordinal), message); // the cause, beside the upload's id
    }

    [Fact]
    public async Task A_cancelled_upload_is_aborted_and_leaves_no_shard()
    {
        var held = _transport.Hang(part: 3);
        using var cancel = new CancellationTokenSource();

        var writing = Write(Image(), cancel.Token);
        await held.WaitAsync(s_deadline);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);
        Assert.True(_transport.AbortSent, "the cancelled upload was not aborted");
        await AssertNoShard();
    }

    /// <summary>
    /// What s3rver 3.7.1 does with AbortMultipartUpload: it does not implement it (405), so on s3rver a failed upload's
    /// parts stay until the server's data goes (docs/deploy.md asks for a lifecycle rule on real buckets). Fails — and
    /// should be updated — once s3rver implements it.
    /// </summary>
    [Fact]
    public async Task Finding_s3rver_does_not_implement_AbortMultipartUpload()
    {
        var initiated = await _client!.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = "probe" });

        var e = await Assert.ThrowsAsync<AmazonS3Exception>(() =>
            _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = "probe", UploadId = initiated.UploadId }));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, e.StatusCode);
    }
}
