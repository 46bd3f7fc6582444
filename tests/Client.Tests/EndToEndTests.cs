using System.Text.Json;
using Cluster.Grains.Hosting;

namespace Cluster.Client.Tests;

/// <summary>
/// Real processes: two silo processes (the built Silo, one device slot each, the second joining the first) and the
/// console as a process, as an operator runs them: submit a job, watch it to the end, read the --json output.
/// </summary>
public sealed class EndToEndTests : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    private readonly string _dataRoot = Directory.CreateTempSubdirectory("client-e2e-").FullName;
    private readonly List<ChildProcess> _processes = [];

    [Fact]
    public async Task Console_drives_real_silo_processes_through_a_job()
    {
        int[] ports = LoopbackPorts.Free(4);
        int primary = ports[0], gateway = ports[1];
        StartSilo("e2e-0", ports[0], ports[1], primary);
        StartSilo("e2e-1", ports[2], ports[3], primary);
        string[] connect = ["--gateway-port", $"{gateway}"];

        // Ready when both silos' nodes heartbeat (each console run fails fast with exit 3 while the silo starts).
        JsonElement nodes = default;
        await Eventually.True(async () =>
        {
            var (code, stdout, _) = await Console(["nodes", "--json", "--connect-timeout", "5", .. connect]);
            if (code != 0) return false;
            nodes = JsonDocument.Parse(stdout).RootElement;
            return nodes.EnumerateArray().Count(n => n.GetProperty("state").GetString() == "Ready") == 2;
        }, TimeSpan.FromMinutes(3), $"two Ready nodes seen by the console. Silo output:\n{SiloOutput()}");
        Assert.Equal(["e2e-0", "e2e-1"], nodes.EnumerateArray().Select(n => n.GetProperty("silo").GetString()).Order());
        // Node ids as the silos registered them ("e2e-1/cpu0" on a CPU machine, "e2e-1/cuda0" on a GPU one).
        string NodeOf(string silo) => nodes.EnumerateArray().Single(n => n.GetProperty("silo").GetString() == silo).GetProperty("nodeId").GetString()!;
        string node0 = NodeOf("e2e-0"), node1 = NodeOf("e2e-1");
        // From here on the cluster is up: a generous connect timeout, so that a loaded shared machine does not fail a command.
        connect = [.. connect, "--connect-timeout", "60"];

        string spec = Path.Combine(_dataRoot, "job.json");
        await File.WriteAllTextAsync(spec, TinySpecs.Json("e2e-job", steps: 8));
        var submitted = await Console(["job", "submit", spec, "--json", .. connect]);
        Assert.True(submitted.Code == 0, submitted.ToString());
        Assert.Equal("e2e-job", JsonDocument.Parse(submitted.Stdout).RootElement.GetProperty("jobId").GetString());

        var watched = await Console(["job", "watch", "e2e-job", "--json", .. connect]);
        Assert.True(watched.Code == 0, watched.ToString());
        var final = JsonDocument.Parse(watched.Stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("final", final.GetProperty("type").GetString());
        Assert.Equal("Completed", final.GetProperty("job").GetProperty("state").GetString());
        Assert.Equal(8, final.GetProperty("job").GetProperty("completedSteps").GetInt64());

        var shown = await Console(["job", "show", "e2e-job", "--json", .. connect]);
        Assert.True(shown.Code == 0, shown.ToString());
        var detail = JsonDocument.Parse(shown.Stdout).RootElement;
        Assert.Equal(8, detail.GetProperty("loss").GetProperty("steps").GetInt32());
        Assert.Equal(2, detail.GetProperty("placement").GetArrayLength());

        var status = await Console(["status", "--json", .. connect]);
        Assert.True(status.Code == 0, status.ToString());
        var summary = JsonDocument.Parse(status.Stdout).RootElement;
        Assert.Equal(2, summary.GetProperty("silos").GetArrayLength());
        Assert.Equal(1, summary.GetProperty("jobsByState").GetProperty("Completed").GetInt32());

        var unknown = await Console(["job", "show", "e2e-jbo", .. connect]);
        Assert.Equal(ExitCodes.NotFound, unknown.Code);
        Assert.Contains("'e2e-job'", unknown.Stderr);

        await Clusterctl_v2_commands_against_real_silos(connect, gateway, node0, node1);
    }

    /// <summary>The views and fleet operations of console v2, each as a separate console process against the real silos.</summary>
    private async Task Clusterctl_v2_commands_against_real_silos(string[] connect, int gateway, string node0, string node1)
    {
        var losses = await Console(["job", "losses", "e2e-job", "--csv", .. connect]);
        Assert.True(losses.Code == 0, losses.ToString());
        Assert.Equal(9, losses.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + 8 steps

        var timings = await Console(["job", "timings", "e2e-job", "-o", "json", .. connect]);
        Assert.True(timings.Code == 0, timings.ToString());
        Assert.Equal(8, JsonDocument.Parse(timings.Stdout).RootElement.EnumerateArray().Last().GetProperty("step").GetInt64());

        var top = await Console(["top", "--once", "-o", "json", "--sort", "heartbeat", .. connect]);
        Assert.True(top.Code == 0, top.ToString());
        Assert.Equal(2, JsonDocument.Parse(top.Stdout).RootElement.GetProperty("nodes").GetArrayLength());
        var topTable = await Console(["top", .. connect]); // piped: one snapshot, then exit
        Assert.True(topTable.Code == 0, topTable.ToString());
        Assert.Contains(node1, topTable.Stdout);

        var cordon = await Console(["node", "cordon", "e2e-1", "--reason", "disk swap", "-o", "name", .. connect]); // a whole silo
        Assert.True(cordon.Code == 0, cordon.ToString());
        Assert.Equal(node1, cordon.Stdout.Trim());
        var cordoned = await Console(["nodes", "--silo", "e2e-*", "--no-headers", .. connect]);
        Assert.Contains("cordoned (disk swap)", cordoned.Stdout);
        var noReason = await Console(["node", "drain", node1, .. connect]);
        Assert.Equal(ExitCodes.Usage, noReason.Code);
        var drain = await Console(["node", "drain", node1, "--reason", "kernel upgrade", "--json", .. connect]);
        Assert.True(drain.Code == 0, drain.ToString());
        Assert.Equal("kernel upgrade", JsonDocument.Parse(drain.Stdout).RootElement.GetProperty("reason").GetString());

        await Job_update_events_and_purge_against_real_silos(connect);

        var uncordon = await Console(["node", "uncordon", "e2e-1/*", "--json", .. connect]);
        Assert.True(uncordon.Code == 0, uncordon.ToString());
        Assert.False(JsonDocument.Parse(uncordon.Stdout).RootElement[0].GetProperty("cordoned").GetBoolean());

        // The node's recorded history (no job in it): the cordon and the drain with their reasons, then the uncordon.
        JsonElement[] history = [];
        await Eventually.True(async () =>
        {
            var events = await Console(["node", "events", node1, "--json", .. connect]);
            Assert.True(events.Code == 0, events.ToString());
            history = [.. JsonDocument.Parse(events.Stdout).RootElement.GetProperty("events").EnumerateArray()];
            return history.Any(e => e.GetProperty("kind").GetString() == "NodeUncordoned");
        }, CommandTimeout, "the uncordon in the node's recorded history");
        string[] reasons = [.. history.Where(e => e.GetProperty("kind").GetString() is "NodeCordoned" or "NodeDraining")
            .Select(e => e.GetProperty("reason").GetString() ?? "(none)")];
        Assert.Equal(["disk swap", "kernel upgrade"], reasons);
        var clusterHistory = await Console(["events", "--history", "--limit", "1000", "--json", .. connect]); // both silos' nodes
        Assert.True(clusterHistory.Code == 0, clusterHistory.ToString());
        var recorded = JsonDocument.Parse(clusterHistory.Stdout).RootElement.GetProperty("events").EnumerateArray().ToArray();
        Assert.Contains(recorded, e => e.GetProperty("reason").GetString() == "kernel upgrade");
        Assert.Contains(recorded, e => e.GetProperty("nodeId").GetString() == node0 && e.GetProperty("reason").GetString() == "queue test");

        var version = await Console(["version", "-o", "yaml", .. connect]);
        Assert.True(version.Code == 0, version.ToString());
        Assert.Contains("name: e2e-0", version.Stdout);
        var versionJson = await Console(["version", "--json", .. connect]);
        Assert.True(versionJson.Code == 0, versionJson.ToString());
        var cluster = JsonDocument.Parse(versionJson.Stdout).RootElement.GetProperty("cluster");
        Assert.Equal(["e2e-0", "e2e-1"], cluster.GetProperty("silos").EnumerateArray().Select(s => s.GetProperty("name").GetString()).Order());
        Assert.All(cluster.GetProperty("silos").EnumerateArray(), s => Assert.Equal(JsonValueKind.String, s.GetProperty("version").ValueKind)); // each silo's own build
        Assert.NotEqual("mixed", cluster.GetProperty("build").GetString()); // both run the same build

        // Completion through a context: the config file names the cluster, the suggest request reads the ids from it.
        string config = Path.Combine(_dataRoot, "clusterctl.json");
        var set = await Console(["config", "set-context", "e2e", "--gateway", $"127.0.0.1:{gateway}", "--connect-timeout", "60"], config);
        Assert.True(set.Code == 0, set.ToString());
        var viaContext = await Console(["jobs", "-o", "name"], config);
        Assert.True(viaContext.Code == 0, viaContext.ToString());
        Assert.Equal("e2e-job", viaContext.Stdout.Trim());
        // (A generous wait for the ids: a cold client on a loaded 2-core machine can take seconds to connect.)
        var suggested = await Console(["[suggest:24]", "clusterctl job timings e"], config, completionTimeout: 30);
        Assert.True(suggested.Code == 0, suggested.ToString());
        Assert.Contains("e2e-job", suggested.Stdout.Split('\n'));
    }

    /// <summary>
    /// With every node cordoned a second job waits for capacity: its update is recorded in its history with the reason,
    /// and a forced, purged delete removes the job, its history and its id.
    /// </summary>
    private async Task Job_update_events_and_purge_against_real_silos(string[] connect)
    {
        var cordon = await Console(["node", "cordon", "e2e-0", "--reason", "queue test", .. connect]); // e2e-1 is already cordoned
        Assert.True(cordon.Code == 0, cordon.ToString());
        try
        {
            await Job_update_events_and_purge(connect);
        }
        finally
        {
            await Console(["node", "uncordon", "e2e-0", .. connect]);
        }
    }

    private async Task Job_update_events_and_purge(string[] connect)
    {
        string spec = Path.Combine(_dataRoot, "job2.json");
        await File.WriteAllTextAsync(spec, TinySpecs.Json("e2e-job2", steps: 8));
        var submitted = await Console(["job", "submit", spec, "--json", .. connect]);
        Assert.True(submitted.Code == 0, submitted.ToString());

        var updated = await Console(["job", "update", "e2e-job2", "--priority", "7", "--reason", "deadline friday", "--json", .. connect]);
        Assert.True(updated.Code == 0, updated.ToString());
        Assert.Equal(7, JsonDocument.Parse(updated.Stdout).RootElement.GetProperty("priority").GetInt32());
        var tooHigh = await Console(["job", "update", "e2e-job2", "--priority", "5000", .. connect]);
        Assert.Equal(ExitCodes.Usage, tooHigh.Code);

        JsonElement update = default;
        await Eventually.True(async () =>
        {
            var events = await Console(["job", "events", "e2e-job2", "--json", .. connect]);
            Assert.True(events.Code == 0, events.ToString());
            update = JsonDocument.Parse(events.Stdout).RootElement.GetProperty("events").EnumerateArray()
                .FirstOrDefault(e => e.GetProperty("kind").GetString() == "JobUpdated");
            return update.ValueKind == JsonValueKind.Object;
        }, CommandTimeout, "the update in the job's recorded history");
        Assert.Equal("deadline friday", update.GetProperty("reason").GetString());
        Assert.Contains("priority 0 → 7", update.GetProperty("message").GetString());

        var refused = await Console(["job", "delete", "e2e-job2", "--purge", .. connect]); // not finished: needs --force
        Assert.Equal(ExitCodes.Usage, refused.Code);
        var deleted = await Console(["job", "delete", "e2e-job2", "--force", "--purge", "--reason", "test over", "--json", .. connect]);
        Assert.True(deleted.Code == 0, deleted.ToString());
        var deletion = JsonDocument.Parse(deleted.Stdout).RootElement;
        Assert.True(deletion.GetProperty("purged").GetBoolean());
        Assert.True(deletion.GetProperty("cancelled").GetBoolean());
        Assert.Equal(ExitCodes.NotFound, (await Console(["job", "show", "e2e-job2", .. connect])).Code);
        Assert.Equal(ExitCodes.NotFound, (await Console(["job", "events", "e2e-job2", .. connect])).Code); // purged: no history either
    }

    private void StartSilo(string name, int siloPort, int gatewayPort, int primaryPort) => _processes.Add(ChildProcess.Start(RepoPaths.SiloDll,
    [
        $"--Orleans:SiloName={name}", $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}", $"--Orleans:PrimarySiloPort={primaryPort}",
        "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={_dataRoot}",
    ], _dataRoot));

    private async Task<(int Code, string Stdout, string Stderr)> Console(string[] args, string? config = null, int? completionTimeout = null)
    {
        // Never the user's own clusterctl config: a file of this test's (absent unless the test writes it).
        var environment = new Dictionary<string, string> { ["CLUSTERCTL_CONFIG"] = config ?? Path.Combine(_dataRoot, "no-clusterctl-config.json") };
        if (completionTimeout is { } seconds) environment["CLUSTERCTL_COMPLETION_TIMEOUT"] = $"{seconds}";
        using var console = ChildProcess.Start(RepoPaths.ClientDll, args, _dataRoot, environment);
        int code = await console.WaitAsync(CommandTimeout);
        string stdout = console.StandardOutput;
        return (code, stdout, console.Output);
    }

    private string SiloOutput() => string.Join("\n---\n", _processes.Select(p => p.Output[^Math.Min(p.Output.Length, 3000)..]));

    public void Dispose()
    {
        foreach (var process in _processes) process.Dispose();
        try
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp folder
        }
    }
}
