using System.Runtime.CompilerServices;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Cluster.Kernels.Checkpoint;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Checkpoints in an Azure Blob container, laid out and committed as <see cref="ObjectCheckpointStore"/> says: blobs
/// <c>&lt;jobId&gt;/step-&lt;step:D8&gt;/epoch-&lt;epoch:D8&gt;/&lt;shard&gt;</c> and the manifest blob beside them, uploaded
/// last with If-None-Match: * (created once).
/// </summary>
public sealed class AzureBlobCheckpointStore : ObjectCheckpointStore
{
    private readonly BlobContainerClient _container;

    public AzureBlobCheckpointStore(BlobContainerClient container, ILogger<AzureBlobCheckpointStore>? logger = null)
        : base(keyPrefix: "", (ILogger?)logger ?? NullLogger.Instance)
    {
        ArgumentNullException.ThrowIfNull(container);
        _container = container;
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

    public override string Description { get; }

    protected override string ObjectKind => "blob";

    protected override string Locate(string key) => $"{_container.Name}/{key}";

    protected override async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        await _container.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(content), overwrite: true, cancellationToken).ConfigureAwait(false);

    /// <summary>Streams the chunks up (the SDK cuts a large upload into blocks): any size.</summary>
    protected override async Task PutChunksAsync(string key, ChunkedBytes content, CancellationToken cancellationToken)
    {
        await using var body = new ChunkedBytesStream(content);
        await _container.GetBlobClient(key).UploadAsync(body, overwrite: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams the blob down into chunks: any size.</summary>
    protected override async Task<ChunkedBytes?> GetChunksAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _container.GetBlobClient(key).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var body = response.Value.Content;
            return await ChunkedBytes.ReadAsync(body, response.Value.Details.ContentLength, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    protected override async Task<bool> CreateAsync(string key, byte[] content, CancellationToken cancellationToken)
    {
        var upload = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
        };
        try
        {
            await _container.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(content), upload, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    protected override async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return (await _container.GetBlobClient(key).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    protected override async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
            yield return (blob.Name, blob.Properties.ContentLength ?? -1);
    }

    protected override async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _container.GetBlobClient(key).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, cancellationToken).ConfigureAwait(false);

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
}
