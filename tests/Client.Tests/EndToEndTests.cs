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
    }

    private void StartSilo(string name, int siloPort, int gatewayPort, int primaryPort) => _processes.Add(ChildProcess.Start(RepoPaths.SiloDll,
    [
        $"--Orleans:SiloName={name}", $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}", $"--Orleans:PrimarySiloPort={primaryPort}",
        "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", $"--TrainingCluster:DataRoot={_dataRoot}",
    ], _dataRoot));

    private async Task<(int Code, string Stdout, string Stderr)> Console(string[] args)
    {
        using var console = ChildProcess.Start(RepoPaths.ClientDll, args, _dataRoot);
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
