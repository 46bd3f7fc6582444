using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Tests;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>
/// With Redis membership the job state lives in Redis too: a job trained by one silo process is known, with its
/// steps, to a new silo process that shares no file system with the first.
/// </summary>
public sealed class RedisJobStateTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Job_state_outlives_the_silo_in_redis_without_a_shared_file_system()
    {
        string clusterId = $"redis-state-{Guid.NewGuid():N}"[..24];
        string jobId;
        string firstData;
        await using (var first = new ProcessCluster())
        {
            firstData = Path.Combine(first.WorkRoot, "data");
            int[] ports = SiloProcess.FreePorts(2);
            var silo = first.StartSilo("silo-a", Args("silo-a", clusterId, ports, firstData));
            var client = await first.ConnectAsync(c => Client(c, clusterId), TimeSpan.FromMinutes(2));
            await first.WaitForNodesAsync(client, 1);
            var spec = TinyJob.Spec($"redis-state-{first.Suffix}", stages: 1, steps: 3, checkpointInterval: 2);
            jobId = spec.JobId;
            var job = client.GetGrain<ITrainingJobGrain>(jobId);
            await job.Submit(spec);
            await first.WaitAsync(async () => (await job.GetStatus()).State == JobState.Completed, TimeSpan.FromMinutes(2), "the job to complete");
            Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromMinutes(1)));
            // Nothing of the job's state went to the file system.
            string state = Path.Combine(firstData, "state");
            Assert.True(!Directory.Exists(state) || Directory.GetFiles(state, "*", SearchOption.AllDirectories).Length == 0,
                $"job state was written under {state}");
        }

        await using var second = new ProcessCluster();
        int[] again = SiloProcess.FreePorts(2);
        second.StartSilo("silo-b", Args("silo-b", clusterId, again, Path.Combine(second.WorkRoot, "data")));
        var secondClient = await second.ConnectAsync(c => Client(c, clusterId), TimeSpan.FromMinutes(2));
        var status = await secondClient.GetGrain<ITrainingJobGrain>(jobId).GetStatus();
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(3, status.CompletedSteps);
    }

    private string[] Args(string name, string clusterId, int[] ports, string dataRoot) =>
    [
        $"--Orleans:SiloName={name}", $"--Orleans:ClusterId={clusterId}", "--Orleans:ServiceId=silo-tests",
        $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}", "--Orleans:AdvertisedIPAddress=127.0.0.1",
        "--Orleans:Membership:Provider=Redis", $"--Orleans:Membership:ConnectionString={redis.ConnectionString}",
        "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={dataRoot}",
        "--Logging:LogLevel:Default=Warning",
    ];

    private void Client(IClientBuilder client, string clusterId)
    {
        client.UseRedisClustering(redis.ConnectionString);
        client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "silo-tests"));
    }
}
