using Azure.Identity;
using Azure.Storage.Blobs;
using Cluster.Grains.Checkpoints;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Fleet-mode storage: one storage account, a container for checkpoints and one for job state. Authenticate with a
/// connection string, or with an account URL and <c>DefaultAzureCredential</c> (managed identity on the fleet).
/// </summary>
public sealed class AzureBlobSettings
{
    /// <summary>Storage connection string (a secret: never logged). Takes precedence over <see cref="AccountUrl"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Blob endpoint, e.g. https://account.blob.core.windows.net, used with DefaultAzureCredential.</summary>
    public Uri? AccountUrl { get; set; }

    /// <summary>Container of checkpoint shards and manifests. <value>checkpoints.</value></summary>
    public string CheckpointContainer { get; set; } = "checkpoints";

    /// <summary>Container of job grain state. <value>job-state.</value></summary>
    public string StateContainer { get; set; } = "job-state";

    /// <summary>REST API version; the default is one the Azurite emulator accepts too.</summary>
    public BlobClientOptions.ServiceVersion ServiceVersion { get; set; } = BlobClientOptions.ServiceVersion.V2026_06_06;

    public IReadOnlyList<string> Validate()
    {
        var problems = CheckpointStoreOptions().Validate()
            .Select(p => p.Replace("ContainerName", nameof(CheckpointContainer), StringComparison.Ordinal))
            .ToList();
        var state = CheckpointStoreOptions();
        state.ContainerName = StateContainer;
        problems.AddRange(state.Validate()
            .Where(p => p.StartsWith("ContainerName", StringComparison.Ordinal))
            .Select(p => p.Replace("ContainerName", nameof(StateContainer), StringComparison.Ordinal)));
        return problems;
    }

    public AzureBlobCheckpointStoreOptions CheckpointStoreOptions() => new()
    {
        ConnectionString = ConnectionString,
        AccountUrl = AccountUrl,
        ContainerName = CheckpointContainer,
        ServiceVersion = ServiceVersion,
    };

    public BlobServiceClient CreateServiceClient()
    {
        var options = new BlobClientOptions(ServiceVersion);
        return !string.IsNullOrWhiteSpace(ConnectionString)
            ? new BlobServiceClient(ConnectionString, options)
            : new BlobServiceClient(AccountUrl, new DefaultAzureCredential(), options);
    }
}
