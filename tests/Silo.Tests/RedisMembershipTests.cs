using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>Two silo processes form a cluster through Redis membership, and a client finds them through it.</summary>
public sealed class RedisMembershipTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Two_silo_processes_form_a_cluster_through_redis()
    {
        await using var cluster = new ProcessCluster();
        string clusterId = $"redis-{cluster.Suffix}";
        int[] ports = SiloProcess.FreePorts(4);
        foreach (var (name, siloPort, gatewayPort) in new[] { ("silo-a", ports[0], ports[1]), ("silo-b", ports[2], ports[3]) })
        {
            cluster.StartSilo(name,
            [
                $"--Orleans:SiloName={name}", $"--Orleans:ClusterId={clusterId}", "--Orleans:ServiceId=silo-tests",
                $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}", "--Orleans:AdvertisedIPAddress=127.0.0.1",
                "--Orleans:Membership:Provider=Redis", $"--Orleans:Membership:ConnectionString={redis.ConnectionString}",
                "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={Path.Combine(cluster.WorkRoot, "data")}",
                "--Logging:LogLevel:Default=Warning",
            ]);
        }
        var client = await cluster.ConnectAsync(c =>
        {
            c.UseRedisClustering(redis.ConnectionString);
            c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "silo-tests"));
        }, TimeSpan.FromMinutes(2));

        await cluster.WaitAsync(async () => (await client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true)).Count() == 2,
            TimeSpan.FromMinutes(2), "both silos active in the Redis membership");
        var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await cluster.WaitAsync(async () => (await scheduler.GetNodes()).Where(n => n.Health is not null).Select(n => n.Capabilities.SiloName).Order().SequenceEqual(["silo-a", "silo-b"]),
            TimeSpan.FromMinutes(2), "a node from each silo registered");
    }
}
