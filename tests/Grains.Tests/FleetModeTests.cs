using Azure.Storage.Blobs;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>Fleet mode: checkpoints and job state in Azure Blob storage (Azurite), nothing on the local disk.</summary>
[Collection("azurite")]
public sealed class FleetModeTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_job_trains_with_checkpoints_and_state_in_blob_storage()
    {
        string suffix = Guid.NewGuid().ToString("N")[..8];
        string checkpoints = $"ckpt-{suffix}", state = $"state-{suffix}";
        string connection = azurite.BlobConnectionString;
        string localRoot = Path.Combine(Path.GetTempPath(), "cluster-tests", "fleet-" + suffix);
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddTrainingCluster(o =>
        {
            o.DeviceSlots = 1;
            o.ThreadsPerSlot = 1;
            o.HeartbeatPeriod = TimeSpan.FromMilliseconds(100);
            o.DataRoot = localRoot; // must stay unused in fleet mode
            o.CheckpointStore = "azureblob";
            o.AzureBlob.ConnectionString = connection;
            o.AzureBlob.CheckpointContainer = checkpoints;
            o.AzureBlob.StateContainer = state;
        }));
        builder.ConfigureClient(client => client.AddMemoryStreams(JobStreams.Provider));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        await Eventually.True(async () => (await cluster.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes()).Count(n => n.Health is not null) == 2,
            TimeSpan.FromSeconds(60), "both nodes registered");

        var spec = TinyJob.Spec("fleet-job", stages: 2, steps: 6, checkpointInterval: 3);
        var job = cluster.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(2), "the job to finish");
        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}");
        Assert.Equal(new long[] { 3, 6 }, (await job.ListCheckpoints()).Select(m => m.Step));

        var losses = await job.GetLossHistory();
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));

        var service = new BlobServiceClient(connection, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var checkpointBlobs = new List<string>();
        await foreach (var blob in service.GetBlobContainerClient(checkpoints).GetBlobsAsync()) checkpointBlobs.Add(blob.Name);
        Assert.Contains($"{spec.JobId}/step-00000006/epoch-00000001/manifest.json", checkpointBlobs);
        Assert.Contains($"{spec.JobId}/step-00000006/epoch-00000001/head.safetensors", checkpointBlobs);
        int stateBlobs = 0;
        await foreach (var _ in service.GetBlobContainerClient(state).GetBlobsAsync()) stateBlobs++;
        Assert.True(stateBlobs >= 1, "the job's state should be a blob in the state container");
        Assert.False(Directory.Exists(localRoot), "fleet mode must not write to the local data root");
    }
}
