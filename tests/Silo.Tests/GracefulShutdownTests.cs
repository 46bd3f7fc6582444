using System.Text.RegularExpressions;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Tests;
using Orleans.Runtime;

namespace Cluster.Silo.Tests;

/// <summary>
/// SIGTERM (systemctl stop) while a job trains: the silo drains its nodes — their stages move to the other silo from
/// live state — before leaving, and exits 0; the job recovers nothing, before or after it left. Also runs silo
/// processes with the localhost keys used before fleet mode.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task A_terminated_silo_moves_its_stages_away_before_leaving_and_exits_cleanly()
    {
        await using var cluster = new ProcessCluster();
        int[] ports = SiloProcess.FreePorts(4);
        string dataRoot = Path.Combine(cluster.WorkRoot, "data");
        string[] common = ["--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={dataRoot}",
                           "--Shutdown:DrainTimeout=00:00:30", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Cluster.Silo=Information", "--Logging:LogLevel:Cluster.Grains.Stages=Information"];
        cluster.StartSilo("silo-a", [$"--Orleans:SiloName=silo-a", $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}", .. common]);
        var client = await cluster.ConnectAsync(c => c.UseLocalhostClustering(ports[1]), TimeSpan.FromMinutes(2));
        await cluster.WaitForNodesAsync(client, 1);
        // The scheduler and the job's coordinator activate on silo-a while it is alone, and stay there: what is tested
        // is moving stages off a leaving machine (a leaving coordinator is the job-recovery path, tested elsewhere).
        var spec = TinyJob.Spec($"drain-{cluster.Suffix}", stages: 2, steps: 150, checkpointInterval: 10);
        var job = client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.GetStatus();

        var leaving = cluster.StartSilo("silo-b",
            [$"--Orleans:SiloName=silo-b", $"--Orleans:SiloPort={ports[2]}", $"--Orleans:GatewayPort={ports[3]}", $"--Orleans:PrimarySiloPort={ports[0]}", .. common]);
        await cluster.WaitForNodesAsync(client, 2);
        // The node ids are what the silos expose ("silo-a/cpu0" on a CPU machine, "silo-a/cuda0" on a GPU one).
        string nodeA = await SiloNodes.SingleOfAsync(client, "silo-a");
        string nodeB = await SiloNodes.SingleOfAsync(client, "silo-b");
        await job.Submit(spec);
        await cluster.WaitAsync(async () => (await job.GetStatus()) is { State: JobState.Running, CompletedSteps: >= 3 } s && s.Placement.Any(p => p.NodeId.StartsWith("silo-b/", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(2), "the job running with a stage on silo-b");
        Assert.Equal("silo-a", (await job.GetStatus()).HostSilo);

        int exitCode = await leaving.TerminateAsync(TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 0, $"silo-b exited {exitCode} after SIGTERM:\n{leaving.Tail()}");
        // The silo drained its node — its stage moved to silo-a from live state — before it left.
        Assert.Contains($"Shutting down: draining nodes {nodeB}", leaving.Output);
        Assert.Contains("Nodes drained in", leaving.Output);
        Assert.Contains($"Waiting for jobs {spec.JobId}, which ran stages here, to complete a step elsewhere", leaving.Output);
        Assert.Contains("completed a step elsewhere in", leaving.Output);

        // Its stage went on on silo-a from where it was (a step past the start), not from scratch.
        var stayed = cluster.Silos[0];
        await cluster.WaitAsync(() => Task.FromResult(Regex.IsMatch(stayed.Output, $@"Stage {spec.JobId}/r0/s1 configured for epoch \d+ on node {Regex.Escape(nodeA)} .*, at step [1-9]")),
            TimeSpan.FromMinutes(1), "silo-b's stage to be running on silo-a", silosMustRun: false);

        // It left the cluster cleanly: the remaining silo lists only itself as active.
        var management = client.GetGrain<IManagementGrain>(0);
        await cluster.WaitAsync(async () => (await management.GetDetailedHosts(onlyActive: true)).Select(h => h.SiloName).SequenceEqual(["silo-a"]),
            TimeSpan.FromMinutes(1), "silo-a the only active silo", silosMustRun: false);

        // A graceful leave is a move, not a failure: five steps after it, the job has restored nothing — the moved
        // stage took the copies it left on silo-b before silo-b left (DrainOnShutdown waits for them), and the copies
        // silo-b held for silo-a's stage went with it without failing a snapshot.
        long left = (await job.GetStatus()).CompletedSteps;
        await cluster.WaitAsync(async () => (await job.GetStatus()).CompletedSteps >= left + 5, TimeSpan.FromMinutes(1), "5 steps after silo-b left", silosMustRun: false);
        var history = (await client.GetGrain<IJobEventLogGrain>(spec.JobId).GetPage(new JobEventQuery(1000))).Events.Select(r => r.Event).ToList();
        Assert.True(!history.Any(e => e.Kind is ClusterEventKind.JobRecovering or ClusterEventKind.JobRestored),
            $"the job recovered after a graceful leave:\n{string.Join("\n", history.Select(e => $"{e.At:HH:mm:ss.fff} {e.Kind} epoch {e.Epoch} step {e.Step} lost {e.StepsLost}: {e.Message}"))}\nsilo-b:\n{leaving.Tail()}");
    }
}
