using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>
/// Fleet deployment end to end with real processes: two <c>Cluster.Silo</c> processes form a cluster through the Azure
/// Table membership table (Azurite), keep checkpoints and job state in Azurite blobs, and train a job to completion
/// that a client submits; their output never shows the storage key.
/// </summary>
[Collection("azurite")]
public sealed class AzureTableClusterTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly List<SiloProcess> _silos = [];
    private IHost? _client;

    private string ClusterId => $"test-{_suffix}";
    private string CheckpointContainer => $"ckpt-{_suffix}";
    private string StateContainer => $"state-{_suffix}";
    private string WorkRoot => Path.Combine(Path.GetTempPath(), "cluster-silo-tests", _suffix);

    [Fact]
    public async Task Two_silo_processes_form_a_cluster_through_the_table_and_train_a_job_with_blob_checkpoints()
    {
        int[] ports = SiloProcess.FreePorts(4);
        StartSilo("silo-a", ports[0], ports[1]);
        StartSilo("silo-b", ports[2], ports[3]);
        var client = await ConnectClientAsync();

        var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await WaitAsync(async () => (await scheduler.GetNodes()).Count(n => n.Health is not null) == 2, TimeSpan.FromMinutes(2), "both silos' nodes registered");

        var spec = TinyJob.Spec($"fleet-{_suffix}", stages: 2, steps: 6, checkpointInterval: 3);
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        JobStatus status = await job.GetStatus();
        await WaitAsync(async () => (status = await job.GetStatus()).State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(3), "the job to finish");
        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}");
        Assert.Equal(2, status.Placement.Select(p => p.NodeId).Distinct().Count());

        var losses = await job.GetLossHistory();
        Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits), losses.Select(BitConverter.DoubleToInt64Bits));

        // The membership table holds both silos of this cluster as Active.
        var table = new TableServiceClient(azurite.TableConnectionString).GetTableClient("OrleansSiloInstances");
        var members = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == ClusterId)) members.Add(row);
        var active = members.Where(m => m.GetString("Status") == "Active").Select(m => m.GetString("SiloName")).Order().ToList();
        Assert.Equal(["silo-a", "silo-b"], active);

        var blobs = new BlobServiceClient(azurite.BlobConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var checkpoints = new List<string>();
        await foreach (var blob in blobs.GetBlobContainerClient(CheckpointContainer).GetBlobsAsync()) checkpoints.Add(blob.Name);
        Assert.Contains($"{spec.JobId}/step-00000006/manifest.json", checkpoints);
        int state = 0;
        await foreach (var _ in blobs.GetBlobContainerClient(StateContainer).GetBlobsAsync()) state++;
        Assert.True(state >= 1, "job state should be blobs in the state container");

        foreach (var silo in _silos)
        {
            Assert.Contains("Orleans:Membership:ConnectionString = ******", silo.Output);
            Assert.DoesNotContain(AzuriteFixture.AccountKey, silo.Output);
        }
    }

    private void StartSilo(string name, int siloPort, int gatewayPort)
    {
        var silo = SiloProcess.Start(name, Path.Combine(WorkRoot, name),
        [
            $"--Orleans:SiloName={name}",
            $"--Orleans:ClusterId={ClusterId}",
            "--Orleans:ServiceId=silo-tests",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            "--Orleans:AdvertisedIPAddress=127.0.0.1",
            "--Orleans:Membership:Provider=AzureTable",
            "--TrainingCluster:DeviceSlots=1",
            "--TrainingCluster:ThreadsPerSlot=1",
            "--TrainingCluster:CheckpointStore=azureblob",
            $"--TrainingCluster:AzureBlob:CheckpointContainer={CheckpointContainer}",
            $"--TrainingCluster:AzureBlob:StateContainer={StateContainer}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Cluster.Silo=Information",
        ],
        new Dictionary<string, string>
        {
            // Secrets through the environment, as a deployment would pass them.
            ["CLUSTER_Orleans__Membership__ConnectionString"] = azurite.TableConnectionString,
            ["CLUSTER_TrainingCluster__AzureBlob__ConnectionString"] = azurite.BlobConnectionString,
        });
        _silos.Add(silo);
    }

    private async Task<IClusterClient> ConnectClientAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var host = new HostBuilder().UseOrleansClient(client =>
            {
                client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(azurite.TableConnectionString));
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = ClusterId;
                    o.ServiceId = "silo-tests";
                });
            }).Build();
            try
            {
                await host.StartAsync();
                _client = host;
                return host.Services.GetRequiredService<IClusterClient>();
            }
            catch (Exception e) when (DateTime.UtcNow < deadline)
            {
                // No gateway in the table yet (the silos are still starting): try again.
                host.Dispose();
                AssertSilosRunning();
                _ = e;
                await Task.Delay(500);
            }
        }
    }

    private async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            AssertSilosRunning();
            try
            {
                if (await condition()) return;
            }
            catch (Exception e)
            {
                last = e;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}. Last error: {last?.Message ?? "none"}\n" +
                    string.Join("\n", _silos.Select(s => $"--- {s.Name}:\n{s.Tail()}")));
    }

    private void AssertSilosRunning()
    {
        foreach (var silo in _silos.Where(s => s.HasExited))
            Assert.Fail($"Silo {silo.Name} exited with {silo.ExitCode}:\n{silo.Tail()}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _client.StopAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                // the silos go next anyway
            }
            _client.Dispose();
        }
        foreach (var silo in _silos) await silo.DisposeAsync();
        if (Directory.Exists(WorkRoot)) Directory.Delete(WorkRoot, recursive: true);
    }
}
