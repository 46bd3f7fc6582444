using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Tests;

namespace Cluster.Silo.Tests;

/// <summary>
/// Fleet deployment end to end with real processes: two <c>Cluster.Silo</c> processes form a cluster through the Azure
/// Table membership table (Azurite), keep checkpoints and job state in Azurite blobs, and train a job to completion
/// that a client submits; their output never shows the storage key.
/// </summary>
[Collection("azurite")]
public sealed class AzureTableClusterTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Two_silo_processes_form_a_cluster_through_the_table_and_train_a_job_with_blob_checkpoints()
    {
        await using var cluster = new ProcessCluster();
        var fleet = AzuriteFleet.For(cluster, "test");
        var client = await fleet.StartTwoSilosAsync(cluster, azurite);

        var spec = TinyJob.Spec($"fleet-{cluster.Suffix}", stages: 2, steps: 6, checkpointInterval: 3);
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        JobStatus status = await job.GetStatus();
        await cluster.WaitAsync(async () => (status = await job.GetStatus()).State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(3), "the job to finish");
        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}");
        Assert.Equal(2, status.Placement.Select(p => p.NodeId).Distinct().Count());
        var losses = await job.GetLossHistory();
        Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));

        // The membership table holds both silos of this cluster as Active.
        var table = new TableServiceClient(azurite.TableConnectionString).GetTableClient("OrleansSiloInstances");
        var members = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == fleet.ClusterId)) members.Add(row);
        Assert.Equal(["silo-a", "silo-b"], members.Where(m => m.GetString("Status") == "Active").Select(m => m.GetString("SiloName")).Order());

        var blobs = new BlobServiceClient(azurite.BlobConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var checkpoints = new List<string>();
        await foreach (var blob in blobs.GetBlobContainerClient(fleet.CheckpointContainer).GetBlobsAsync()) checkpoints.Add(blob.Name);
        Assert.Contains(checkpoints, name => name.StartsWith($"{spec.JobId}/step-00000006/epoch-", StringComparison.Ordinal) && name.EndsWith("/manifest.json", StringComparison.Ordinal));
        int state = 0;
        await foreach (var _ in blobs.GetBlobContainerClient(fleet.StateContainer).GetBlobsAsync()) state++;
        Assert.True(state >= 1, "job state should be blobs in the state container");

        foreach (var silo in cluster.Silos)
        {
            Assert.Contains("Orleans:Membership:ConnectionString = ******", silo.Output);
            Assert.DoesNotContain(AzuriteFixture.AccountKey, silo.Output);
        }
    }
}
