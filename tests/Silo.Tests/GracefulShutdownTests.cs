using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Tests;
using Orleans.Runtime;

namespace Cluster.Silo.Tests;

/// <summary>
/// SIGTERM (systemctl stop) while a job trains: the silo asks the scheduler to drain its nodes and waits for the
/// outcome before leaving, then exits 0. Also runs silo processes with the localhost keys used before fleet mode.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task A_terminated_silo_drains_its_nodes_before_leaving_and_exits_cleanly()
    {
        await using var cluster = new ProcessCluster();
        int[] ports = SiloProcess.FreePorts(4);
        string dataRoot = Path.Combine(cluster.WorkRoot, "data");
        string[] common = ["--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={dataRoot}",
                           "--Shutdown:DrainTimeout=00:00:30", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Cluster.Silo=Information"];
        cluster.StartSilo("silo-a", [$"--Orleans:SiloName=silo-a", $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}", .. common]);
        var leaving = cluster.StartSilo("silo-b",
            [$"--Orleans:SiloName=silo-b", $"--Orleans:SiloPort={ports[2]}", $"--Orleans:GatewayPort={ports[3]}", $"--Orleans:PrimarySiloPort={ports[0]}", .. common]);
        var client = await cluster.ConnectAsync(c => c.UseLocalhostClustering([ports[1], ports[3]]), TimeSpan.FromMinutes(2));
        var scheduler = client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await cluster.WaitAsync(async () => (await scheduler.GetNodes()).Count(n => n.Health is not null) == 2, TimeSpan.FromMinutes(2), "both silos' nodes registered");

        var spec = TinyJob.Spec($"drain-{cluster.Suffix}", stages: 2, steps: 150, checkpointInterval: 10);
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        await cluster.WaitAsync(async () => (await job.GetStatus()) is { State: JobState.Running, CompletedSteps: >= 3 } s && s.Placement.Any(p => p.NodeId.StartsWith("silo-b/", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(2), "the job running with a stage on silo-b");

        int exitCode = await leaving.TerminateAsync(TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 0, $"silo-b exited {exitCode} after SIGTERM:\n{leaving.Tail()}");
        // The drain was asked for this silo's node before the silo left, and the silo waited for its outcome.
        Assert.Contains("Shutting down: draining nodes silo-b/cpu0", leaving.Output);
        Assert.Matches("Nodes drained in|Could not drain this silo's nodes|still on this silo's nodes after", leaving.Output);

        // It left the cluster cleanly: the remaining silo answers and lists only itself as active.
        var management = client.GetGrain<IManagementGrain>(0);
        await cluster.WaitAsync(async () => (await management.GetDetailedHosts(onlyActive: true)).Select(h => h.SiloName).SequenceEqual(["silo-a"]),
            TimeSpan.FromMinutes(1), "silo-a the only active silo", silosMustRun: false);
    }
}
