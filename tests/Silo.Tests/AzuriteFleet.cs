using Azure.Data.Tables;
using Cluster.Grains.Tests;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>
/// Two silo processes deployed as on a fleet: membership in an Azure Table, checkpoints and job state in Azure Blob
/// containers of their own, all on one Azurite; secrets passed through the environment, as a deployment passes them.
/// </summary>
internal sealed record AzuriteFleet(string ClusterId, string CheckpointContainer, string StateContainer)
{
    public const string ServiceId = "silo-tests";

    public static AzuriteFleet For(ProcessCluster cluster, string prefix) =>
        new($"{prefix}-{cluster.Suffix}", $"ckpt-{cluster.Suffix}", $"state-{cluster.Suffix}");

    /// <summary>Starts silo-a and silo-b, connects a client through the membership table and waits for both nodes.</summary>
    public async Task<IClusterClient> StartTwoSilosAsync(ProcessCluster cluster, AzuriteFixture azurite)
    {
        int[] ports = SiloProcess.FreePorts(4);
        foreach (var (name, siloPort, gatewayPort) in new[] { ("silo-a", ports[0], ports[1]), ("silo-b", ports[2], ports[3]) })
        {
            cluster.StartSilo(name,
            [
                $"--Orleans:SiloName={name}",
                $"--Orleans:ClusterId={ClusterId}",
                $"--Orleans:ServiceId={ServiceId}",
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
                "--Logging:LogLevel:Cluster=Information",
            ],
            new Dictionary<string, string>
            {
                ["CLUSTER_Orleans__Membership__ConnectionString"] = azurite.TableConnectionString,
                ["CLUSTER_TrainingCluster__AzureBlob__ConnectionString"] = azurite.BlobConnectionString,
            });
        }
        var client = await cluster.ConnectAsync(c =>
        {
            c.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(azurite.TableConnectionString));
            c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, ServiceId));
        }, TimeSpan.FromMinutes(2));
        await cluster.WaitForNodesAsync(client, 2);
        return client;
    }
}
