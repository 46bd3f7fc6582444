using System.Text;
using Azure.Storage.Blobs;
using Cluster.Grains.Checkpoints;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Tests;

/// <summary>The checkpoint contract on Azure Blob storage (Azurite), plus blob layout, secrecy and container creation.</summary>
[Collection("azurite")]
public sealed class AzureBlobCheckpointStoreTests(AzuriteFixture azurite) : CheckpointStoreContract
{
    // Each test gets its own container, created by the store's factory.
    private readonly string _containerName = $"ckpt-{Guid.NewGuid():N}"[..24];
    private readonly RecordingLogger<AzureBlobCheckpointStore> _logger = new();

    private BlobContainerClient Container(string name) =>
        new BlobServiceClient(azurite.BlobConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06))
            .GetBlobContainerClient(name);

    protected override async Task<ICheckpointStore> CreateStoreAsync() =>
        await AzureBlobCheckpointStore.CreateAsync(
            new AzureBlobCheckpointStoreOptions { ConnectionString = azurite.BlobConnectionString, ContainerName = _containerName }, _logger);

    protected override async Task DisposeStoreAsync() => await Container(_containerName).DeleteIfExistsAsync();

    protected override async Task WriteRawAsync(string relativeName, byte[] content) =>
        await Container(_containerName).GetBlobClient(relativeName).UploadAsync(BinaryData.FromBytes(content), overwrite: true);

    [Fact]
    public void Description_names_container_and_endpoint_but_no_secret()
    {
        string description = Store.Description;

        Assert.Equal($"Azure Blob container '{_containerName}' at {azurite.BlobEndpoint}", description);
        Assert.DoesNotContain("AccountKey", description, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blobs_are_named_by_job_step_and_epoch_with_the_manifest_beside_the_shards()
    {
        string job = NewJobId();
        await WriteCheckpointAsync(job, 7);
        await WriteCheckpointAsync(job, 8, commit: false);

        var names = new List<string>();
        await foreach (var blob in Container(_containerName).GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = job + "/" }))
            names.Add(blob.Name);

        string[] expected =
        [
            $"{job}/step-00000007/epoch-00000003/block.0.safetensors", $"{job}/step-00000007/epoch-00000003/embed.safetensors",
            $"{job}/step-00000007/epoch-00000003/head.safetensors", $"{job}/step-00000007/epoch-00000003/manifest.json",
            $"{job}/step-00000008/epoch-00000003/block.0.safetensors", $"{job}/step-00000008/epoch-00000003/embed.safetensors",
            $"{job}/step-00000008/epoch-00000003/head.safetensors",
        ];
        Assert.Equal(expected, names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Missing_shard_error_names_the_blob()
    {
        string job = NewJobId();

        var e = await Assert.ThrowsAsync<Kernels.Checkpoint.CheckpointCorruptException>(() => Store.ReadShardAsync(job, Epoch, 12, "head.safetensors"));

        Assert.Equal($"{_containerName}/{job}/step-00000012/epoch-00000003/head.safetensors", e.Source);
    }

    [Fact]
    public async Task A_corrupt_manifest_blob_is_skipped_and_reported()
    {
        string job = NewJobId();
        var good = await WriteCheckpointAsync(job, 1);
        await WriteCheckpointAsync(job, 2);
        string blobName = $"{job}/step-00000002/epoch-00000003/manifest.json";
        await Container(_containerName).GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(Encoding.UTF8.GetBytes("not json")), overwrite: true);

        AssertManifestEqual(good, Assert.Single(await Store.ListManifestsAsync(job)));
        Assert.Contains(_logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(blobName, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_makes_the_container_when_it_is_missing()
    {
        string name = $"ckpt-new-{Guid.NewGuid():N}"[..24];
        try
        {
            Assert.False((await Container(name).ExistsAsync()).Value);

            var store = AzureBlobCheckpointStore.Create(new AzureBlobCheckpointStoreOptions { ConnectionString = azurite.BlobConnectionString, ContainerName = name });

            Assert.True((await Container(name).ExistsAsync()).Value);
            await store.WriteShardAsync("job", 1, 1, "unit.safetensors", new byte[] { 42 });
            Assert.Equal([42], await store.ReadShardAsync("job", 1, 1, "unit.safetensors"));
            // Creating a store for an existing container is fine too.
            _ = AzureBlobCheckpointStore.Create(new AzureBlobCheckpointStoreOptions { ConnectionString = azurite.BlobConnectionString, ContainerName = name });
        }
        finally
        {
            await Container(name).DeleteIfExistsAsync();
        }
    }
}
