using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Checkpoints in an Azure Blob container: blobs <c>&lt;jobId&gt;/step-&lt;step:D8&gt;/&lt;shard&gt;</c> and, uploaded
/// last as the commit, <c>…/manifest.json</c>. A blob upload is atomic (readers see the old blob or the whole new one),
/// so listing only manifest blobs never shows a checkpoint whose shards are not all stored.
/// </summary>
public sealed partial class AzureBlobCheckpointStore : ICheckpointStore
{
    private const int DeleteParallelism = 8;

    private readonly BlobContainerClient _container;
    private readonly ILogger _logger;

    public AzureBlobCheckpointStore(BlobContainerClient container, ILogger<AzureBlobCheckpointStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        _container = container;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Description = $"Azure Blob container '{container.Name}' at {AccountEndpoint(container)}";
    }

    /// <summary>Connects as <paramref name="options"/> say and creates the container if it does not exist yet.</summary>
    public static AzureBlobCheckpointStore Create(AzureBlobCheckpointStoreOptions options, ILogger<AzureBlobCheckpointStore>? logger = null)
    {
        var container = CreateContainerClient(options);
        container.CreateIfNotExists(PublicAccessType.None, metadata: null, cancellationToken: default);
        return new AzureBlobCheckpointStore(container, logger);
    }

    /// <inheritdoc cref="Create"/>
    public static async Task<AzureBlobCheckpointStore> CreateAsync(
        AzureBlobCheckpointStoreOptions options, ILogger<AzureBlobCheckpointStore>? logger = null, CancellationToken cancellationToken = default)
    {
        var container = CreateContainerClient(options);
        await container.CreateIfNotExistsAsync(PublicAccessType.None, metadata: null, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new AzureBlobCheckpointStore(container, logger);
    }

    public string Description { get; }

    public async Task WriteShardAsync(string jobId, long step, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        CheckpointNames.ValidateShardName(name);
        cancellationToken.ThrowIfCancellationRequested();
        await _container.GetBlobClient(BlobName(jobId, step, name))
            .UploadAsync(BinaryData.FromBytes(content), overwrite: true, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> ReadShardAsync(string jobId, long step, string name, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        CheckpointNames.ValidateStep(step);
        CheckpointNames.ValidateShardName(name);
        cancellationToken.ThrowIfCancellationRequested();
        string blobName = BlobName(jobId, step, name);
        try
        {
            var result = await _container.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new CheckpointCorruptException($"{_container.Name}/{blobName}", "the shard blob is missing", e);
        }
    }

    public async Task CommitManifestAsync(CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateManifest(manifest);
        cancellationToken.ThrowIfCancellationRequested();
        string prefix = StepPrefix(manifest.JobId, manifest.Step);

        // A manifest naming shards that are not there would be a checkpoint restore cannot use: refuse to commit it.
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
            stored[blob.Name[prefix.Length..]] = blob.Properties.ContentLength ?? -1;
        foreach (var shard in manifest.Shards)
        {
            if (!stored.TryGetValue(shard.Name, out long bytes))
                throw new InvalidOperationException($"Cannot commit checkpoint {manifest.JobId}@{manifest.Step}: shard blob '{prefix}{shard.Name}' is missing.");
            if (bytes != shard.Bytes)
                throw new InvalidOperationException(
                    $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step}: shard blob '{prefix}{shard.Name}' has {bytes} bytes, the manifest says {shard.Bytes}.");
        }

        // Invariant (fenced store): a manifest is written once — a conditional create (If-None-Match: *). A second commit
        // of the step succeeds only when the committed manifest names the same shards with the same hashes (a retried
        // commit whose reply was lost, or a replay of the same deterministic trajectory); anything else is refused.
        var upload = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
        };
        var manifestBlob = _container.GetBlobClient(prefix + CheckpointNames.ManifestName);
        try
        {
            await manifestBlob.UploadAsync(BinaryData.FromBytes(CheckpointManifestJson.Serialize(manifest)), upload, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            var existing = CheckpointManifestJson.Deserialize((await manifestBlob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray());
            if (!CheckpointNames.SameShards(existing, manifest))
                throw new InvalidOperationException(
                    $"Cannot commit checkpoint {manifest.JobId}@{manifest.Step} (epoch {manifest.Epoch}): a different manifest, committed by epoch {existing.Epoch}, " +
                    $"is already at blob '{manifestBlob.Name}'; a manifest is written once.", e);
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
            string blobName = StepPrefix(jobId, step) + CheckpointNames.ManifestName;
            BinaryData json;
            try
            {
                json = (await _container.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                continue; // deleted while we listed
            }

            if (ListedManifest.Read(json.ToMemory().Span, jobId, step, blobName, _logger) is { } manifest)
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
        await DeleteBlobAsync(prefix + CheckpointNames.ManifestName, cancellationToken).ConfigureAwait(false);
        var shards = new List<string>();
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
            shards.Add(blob.Name);
        await DeleteBlobsAsync(shards, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteUncommittedAsync(string jobId, IReadOnlySet<long> keepSteps, CancellationToken cancellationToken = default)
    {
        CheckpointNames.ValidateJobId(jobId);
        ArgumentNullException.ThrowIfNull(keepSteps);
        cancellationToken.ThrowIfCancellationRequested();
        var listing = await ListStepsAsync(jobId, cancellationToken).ConfigureAwait(false);
        await DeleteBlobsAsync(listing.Uncommitted(keepSteps), cancellationToken).ConfigureAwait(false);
    }

    private static BlobContainerClient CreateContainerClient(AzureBlobCheckpointStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid Azure Blob checkpoint store options: " + string.Join(" ", problems), nameof(options));
        var clientOptions = new BlobClientOptions(options.ServiceVersion);
        var service = !string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new BlobServiceClient(options.ConnectionString, clientOptions)
            : new BlobServiceClient(options.AccountUrl!, options.Credential ?? new DefaultAzureCredential(), clientOptions);
        return service.GetBlobContainerClient(options.ContainerName);
    }

    /// <summary>The account endpoint without query (a SAS) or user info: safe to log.</summary>
    private static string AccountEndpoint(BlobContainerClient container)
    {
        var uri = new UriBuilder(container.Uri) { Query = string.Empty, Fragment = string.Empty, UserName = string.Empty, Password = string.Empty };
        string path = uri.Path.TrimEnd('/');
        int slash = path.LastIndexOf('/');
        uri.Path = slash >= 0 ? path[..slash] : string.Empty;
        return uri.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    private static string StepPrefix(string jobId, long step) => $"{jobId}/{CheckpointNames.StepFolder(step)}/";

    private static string BlobName(string jobId, long step, string name) => StepPrefix(jobId, step) + name;

    /// <summary>The job's step folders: the blobs of each, and the steps whose manifest is among them.</summary>
    private async Task<StepFolderListing> ListStepsAsync(string jobId, CancellationToken cancellationToken)
    {
        string jobPrefix = jobId + "/";
        var listing = new StepFolderListing(jobPrefix);
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = jobPrefix }, cancellationToken).ConfigureAwait(false))
            listing.Add(blob.Name);
        return listing;
    }

    private Task DeleteBlobsAsync(IReadOnlyList<string> blobNames, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(blobNames, new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = cancellationToken },
            async (name, token) => await DeleteBlobAsync(name, token).ConfigureAwait(false));

    private async Task DeleteBlobAsync(string blobName, CancellationToken cancellationToken) =>
        await _container.GetBlobClient(blobName)
            .DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, cancellationToken).ConfigureAwait(false);
}
