using Cluster.Grains.Checkpoints;
using Cluster.Grains.Hosting;

namespace Cluster.Grains.Tests;

/// <summary>Bad S3 settings are refused before anything connects, each problem naming the option and the fix.</summary>
public sealed class S3CheckpointStoreOptionsTests
{
    [Fact]
    public void The_defaults_with_an_endpoint_are_valid()
    {
        Assert.Empty(new S3CheckpointStoreOptions { ServiceUrl = new Uri("http://minio:9000") }.Validate());
        Assert.Empty(new S3CheckpointStoreOptions().Validate()); // AWS S3, default credential chain
    }

    [Theory]
    [InlineData("ftp://minio:9000", null, null, null, null, "ServiceUrl")]
    [InlineData(null, "Checkpoints", null, null, null, "BucketName 'Checkpoints'")]
    [InlineData(null, "ab", null, null, null, "BucketName 'ab'")]
    [InlineData(null, null, "/prod/", null, null, "KeyPrefix '/prod/'")]
    [InlineData(null, null, "prod", null, null, "KeyPrefix 'prod'")]
    [InlineData(null, null, null, "AKIA", null, "Set both AccessKey and SecretKey")]
    [InlineData(null, null, null, null, "secret", "Set both AccessKey and SecretKey")]
    public void Each_bad_setting_is_named(string? url, string? bucket, string? prefix, string? accessKey, string? secretKey, string expected)
    {
        var options = new S3CheckpointStoreOptions { AccessKey = accessKey, SecretKey = secretKey };
        if (url is not null) options.ServiceUrl = new Uri(url);
        if (bucket is not null) options.BucketName = bucket;
        if (prefix is not null) options.KeyPrefix = prefix;

        Assert.Contains(options.Validate(), p => p.StartsWith(expected, StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => S3CheckpointStore.CreateClient(options));
    }

    [Theory]
    [InlineData(4L << 20, 64L << 20, 4, "MultipartThresholdBytes = 4194304")]
    [InlineData(6L << 30, 64L << 20, 4, "MultipartThresholdBytes = 6442450944")]
    [InlineData(64L << 20, (5L << 20) - 1, 4, "PartSizeBytes = 5242879")]
    [InlineData(64L << 20, (5L << 30) + 1, 4, "PartSizeBytes = 5368709121")]
    [InlineData(64L << 20, 64L << 20, 0, "PartConcurrency = 0")]
    [InlineData(64L << 20, 64L << 20, 65, "PartConcurrency = 65")]
    public void Multipart_settings_outside_S3s_limits_are_named(long threshold, long partBytes, int concurrency, string expected)
    {
        var options = new S3CheckpointStoreOptions { MultipartThresholdBytes = threshold, PartSizeBytes = partBytes, PartConcurrency = concurrency };

        string problem = Assert.Single(options.Validate());
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
        Assert.Contains("e.g.", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_training_cluster_accepts_s3_and_reports_its_problems_under_S3()
    {
        var options = new TrainingClusterOptions { CheckpointStore = "s3" };
        Assert.Empty(options.Validate());

        options.S3.BucketName = "Bad_Bucket";
        Assert.Contains(options.Validate(), p => p.StartsWith("S3:BucketName 'Bad_Bucket'", StringComparison.Ordinal));
        Assert.Contains(new TrainingClusterOptions { CheckpointStore = "gcs" }.Validate(), p => p.Contains("'filesystem', 'azureblob' or 's3'", StringComparison.Ordinal));
    }
}
