using System.Text.RegularExpressions;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Where <see cref="S3CheckpointStore"/> keeps checkpoints: a bucket on AWS S3 or on any S3-compatible server (MinIO,
/// Ceph RGW, Cloudflare R2, GCS/OCI/… S3 APIs). Bound from <c>TrainingCluster:S3</c>.
/// </summary>
public sealed partial class S3CheckpointStoreOptions
{
    /// <summary>The S3 API endpoint, e.g. http://minio.storage:9000; empty = AWS S3 in <see cref="Region"/>.</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Region for request signing (AWS: the bucket's region; most other servers accept any). <value>us-east-1.</value></summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Bucket of checkpoint shards and manifests. <value>checkpoints.</value></summary>
    public string BucketName { get; set; } = "checkpoints";

    /// <summary>Key prefix inside the bucket, e.g. "prod/" to share a bucket; empty = the bucket root. <value>empty.</value></summary>
    public string KeyPrefix { get; set; } = "";

    /// <summary>Access key id; with <see cref="SecretKey"/>. Both empty: the AWS default credential chain (IRSA, instance profile, env).</summary>
    public string? AccessKey { get; set; }

    /// <summary>Secret access key (a secret: never logged).</summary>
    public string? SecretKey { get; set; }

    /// <summary>Path-style URLs (http://host/bucket/key), which MinIO, Ceph and local servers need. <value>true.</value></summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>Create the bucket at start when it does not exist. <value>true.</value></summary>
    public bool CreateBucket { get; set; } = true;

    /// <summary>
    /// Commit manifests with a conditional put (If-None-Match: *: created once), so two writers can never both believe
    /// they committed the same shard set. Turn off only for a server that rejects the header (501); the store then
    /// relies on its own read-before-write check, which a concurrent writer of the same epoch could race. <value>true.</value>
    /// </summary>
    public bool ConditionalWrites { get; set; } = true;

    /// <summary>
    /// A shard of this many bytes or more goes up as a multipart upload, in parts of <see cref="PartSizeBytes"/> sent
    /// <see cref="PartConcurrency"/> at a time: a failed part is sent again alone, and a shard may exceed the 5 GiB one
    /// PutObject takes (up to 5 TiB). Smaller shards are one PutObject. 5 MiB to 5 GiB. <value>64 MiB.</value>
    /// </summary>
    public long MultipartThresholdBytes { get; set; } = 64L << 20;

    /// <summary>
    /// The size of a multipart upload's parts (the last is shorter); larger when a shard would need more than 10,000.
    /// 5 MiB to 5 GiB. <value>64 MiB.</value>
    /// </summary>
    public long PartSizeBytes { get; set; } = 64L << 20;

    /// <summary>How many parts of one shard are sent at once. 1 to 64. <value>4.</value></summary>
    public int PartConcurrency { get; set; } = 4;

    /// <summary>Every problem with these options (empty when they are usable), each naming the option and the fix.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ServiceUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
            problems.Add($"{nameof(ServiceUrl)} '{url}' must be an absolute http(s) URL such as http://minio:9000.");
        if (string.IsNullOrWhiteSpace(Region))
            problems.Add($"{nameof(Region)} is empty: give the bucket's region, e.g. us-east-1.");
        if (!BucketNameRule().IsMatch(BucketName ?? "") || (BucketName ?? "").Contains("..", StringComparison.Ordinal))
            problems.Add($"{nameof(BucketName)} '{BucketName}' is not a valid bucket name: 3-63 characters of lowercase letters, digits, '.' and '-', starting and ending with a letter or digit.");
        if (KeyPrefix.StartsWith('/') || (KeyPrefix.Length > 0 && !KeyPrefix.EndsWith('/')))
            problems.Add($"{nameof(KeyPrefix)} '{KeyPrefix}' must be empty or end with '/' and not start with one, e.g. prod/.");
        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey))
            problems.Add($"Set both {nameof(AccessKey)} and {nameof(SecretKey)}, or neither (then the AWS default credential chain is used).");
        if (MultipartThresholdBytes is < S3MultipartPlan.MinPartBytes or > S3MultipartPlan.MaxPartBytes)
            problems.Add($"{nameof(MultipartThresholdBytes)} = {MultipartThresholdBytes}: must be {S3MultipartPlan.MinPartBytes} (5 MiB) to {S3MultipartPlan.MaxPartBytes} (5 GiB, the most one PutObject takes), e.g. 67108864 (64 MiB).");
        if (PartSizeBytes is < S3MultipartPlan.MinPartBytes or > S3MultipartPlan.MaxPartBytes)
            problems.Add($"{nameof(PartSizeBytes)} = {PartSizeBytes}: must be {S3MultipartPlan.MinPartBytes} (5 MiB, S3's smallest part) to {S3MultipartPlan.MaxPartBytes} (5 GiB), e.g. 67108864 (64 MiB).");
        if (PartConcurrency is < 1 or > 64)
            problems.Add($"{nameof(PartConcurrency)} = {PartConcurrency}: must be 1 to 64, e.g. 4.");
        return problems;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketNameRule();
}
