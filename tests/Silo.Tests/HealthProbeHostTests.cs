using System.Net;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Tests;
using Cluster.Silo.Configuration;
using Cluster.Silo.Health;
using Cluster.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cluster.Silo.Tests;

/// <summary>
/// The probes over HTTP on a silo built exactly as the executable builds it (in this process, so the test can reach
/// its device workers): healthy once joined, live failing while a device operation hangs and recovering after, and
/// ready failing while the silo drains on its way out.
/// </summary>
public sealed class HealthProbeHostTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromMinutes(2);

    /// <summary>A stage the test attaches to the worker by hand (no job runs).</summary>
    private static readonly NodeOccupant Occupant = new("probe-test", 1, 0, 0);

    [Fact]
    public async Task Probes_follow_start_up_a_stuck_device_worker_and_draining()
    {
        int[] ports = SiloProcess.FreePorts(3);
        string dataRoot = Path.Combine(Path.GetTempPath(), "cluster-health-tests", Guid.NewGuid().ToString("N")[..8]);
        string[] args =
        [
            "--Orleans:SiloName=health-a", $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}",
            "--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", "--TrainingCluster:DeviceGigaflops=10",
            $"--TrainingCluster:DataRoot={dataRoot}", $"--Observability:HealthPort={ports[2]}",
            "--Observability:DeviceStallTimeout=00:00:02", "--Shutdown:DrainTimeout=00:01:00", "--Logging:LogLevel:Default=Warning",
        ];
        var builder = SiloHost.CreateBuilder(args);
        var settings = SiloSettings.Load(builder.Configuration);
        using var host = builder.ConfigureSilo(settings).Build(settings);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{ports[2]}"), Timeout = TimeSpan.FromSeconds(15) };
        await host.StartAsync();
        Task? stopping = null;
        var worker = host.Services.GetRequiredService<DeviceWorkerPool>().Workers.Single();
        try
        {
            await Eventually.True(async () => await StatusAsync(http, HealthProbes.StartupPath) == HttpStatusCode.OK, s_wait, "/health/startup to answer 200");
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HealthProbes.ReadyPath));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HealthProbes.LivePath));
            Assert.Contains("checkpoint store reachable", await http.GetStringAsync(HealthProbes.ReadyPath), StringComparison.Ordinal);

            // A device operation that does not return: live fails (naming the node) once it has run past the stall timeout...
            using var gate = new ManualResetEventSlim();
            var hung = worker.Run(() => gate.Wait(TimeSpan.FromMinutes(5)));
            string body = "";
            await Eventually.True(async () =>
            {
                using var response = await http.GetAsync(HealthProbes.LivePath);
                body = await response.Content.ReadAsStringAsync();
                return response.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, s_wait, "/health/live to answer 503 while the device worker hangs");
            Assert.Contains($"{worker.NodeId} has run one operation for", body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HealthProbes.ReadyPath)); // a restart is live's business, not ready's
            // ...and passes again once the operation finishes.
            gate.Set();
            await hung;
            Assert.Null(worker.InFlightSince);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HealthProbes.LivePath));

            // Draining: a stage still attached keeps the stopping silo draining; meanwhile ready says so and live stays 200.
            worker.StageAttached("probe-test/0/0", Occupant);
            stopping = host.StopAsync();
            await Eventually.True(async () =>
            {
                using var response = await http.GetAsync(HealthProbes.ReadyPath);
                body = await response.Content.ReadAsStringAsync();
                return response.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, s_wait, "/health/ready to answer 503 while the silo drains");
            Assert.Contains("draining", body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HealthProbes.LivePath));
            Assert.False(stopping.IsCompleted, "the silo stopped before the probes were read: the drain did not wait for the attached stage");
        }
        finally
        {
            worker.StageDetached("probe-test/0/0", Occupant);
            await (stopping ?? host.StopAsync());
            if (Directory.Exists(dataRoot)) Directory.Delete(dataRoot, recursive: true);
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return response.StatusCode;
    }
}
