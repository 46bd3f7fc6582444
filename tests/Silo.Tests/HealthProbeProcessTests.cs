using System.Net;
using Cluster.Silo.Health;

namespace Cluster.Silo.Tests;

/// <summary>A silo started the README way, plus <c>--Observability:HealthPort=P</c>, answers the probes with 200 once it has joined.</summary>
public sealed class HealthProbeProcessTests
{
    [Fact]
    public async Task A_silo_process_answers_ready_and_live_with_200_once_joined()
    {
        await using var cluster = new ProcessCluster();
        int[] ports = SiloProcess.FreePorts(3);
        var silo = cluster.StartSilo("silo-a",
        [
            $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}", "--TrainingCluster:DeviceSlots=2",
            $"--TrainingCluster:DataRoot={Path.Combine(cluster.WorkRoot, "data")}", $"--Observability:HealthPort={ports[2]}",
        ]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{ports[2]}"), Timeout = TimeSpan.FromSeconds(15) };

        await cluster.WaitAsync(async () => (await http.GetAsync(HealthProbes.ReadyPath)).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromMinutes(2), "GET /health/ready to answer 200");
        using var live = await http.GetAsync(HealthProbes.LivePath);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        string liveBody = await live.Content.ReadAsStringAsync();
        Assert.Contains("\"device-progress\"", liveBody, StringComparison.Ordinal);
        Assert.Contains("2 device worker(s) making progress", liveBody, StringComparison.Ordinal);
        await cluster.WaitAsync(async () => (await http.GetAsync(HealthProbes.StartupPath)).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromMinutes(1), "GET /health/startup to answer 200 once both nodes calibrated");
        // The probes answer on the health port only: nothing else is served there.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/")).StatusCode);

        Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromMinutes(1)));
    }
}
