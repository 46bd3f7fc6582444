using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Tests;
using Orleans.Runtime;

namespace Cluster.Silo.Tests;

/// <summary>
/// SIGTERM (systemctl stop) while a job trains: the silo drains its nodes (their stages move away from live state)
/// before leaving, exits 0, and the job finishes on the remaining silo with the reference trajectory. Also runs silo
/// processes with the localhost keys used before fleet mode.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task A_terminated_silo_drains_its_nodes_leaves_and_the_job_finishes_elsewhere()
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
        // The silo drained its node — its stage moved to silo-a from live state — before it left.
        Assert.Contains("Shutting down: draining nodes silo-b/cpu0", leaving.Output);
        Assert.Contains("Nodes drained in", leaving.Output);

        JobStatus status = await job.GetStatus();
        await cluster.WaitAsync(async () => (status = await job.GetStatus()).State is JobState.Completed or JobState.Failed or JobState.Cancelled,
            TimeSpan.FromMinutes(3), "the job to finish on silo-a", silosMustRun: false);
        Assert.True(status.State == JobState.Completed, $"job ended {status.State}: {status.Error}\n{cluster.Outputs()}");
        Assert.All(status.Placement, p => Assert.StartsWith("silo-a/", p.NodeId));
        // A drain moves live state: the trajectory is the reference trainer's, bit for bit.
        Assert.Equal(TinyJob.ReferenceLosses(spec).Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));

        // It left the cluster cleanly: the remaining silo lists only itself as active.
        var management = client.GetGrain<IManagementGrain>(0);
        await cluster.WaitAsync(async () => (await management.GetDetailedHosts(onlyActive: true)).Select(h => h.SiloName).SequenceEqual(["silo-a"]),
            TimeSpan.FromMinutes(1), "silo-a the only active silo", silosMustRun: false);
    }
}
