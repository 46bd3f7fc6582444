using Azure.Storage.Blobs;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Tests;
using Cluster.Silo.Configuration;
using Cluster.Silo.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cluster.Silo.Tests;

/// <summary>The probes' checks one by one, with a hand-moved clock: device progress, draining and the store.</summary>
public sealed class HealthCheckTests
{
    private static readonly DateTimeOffset s_start = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_device_worker_records_when_its_running_operation_started_and_clears_it_when_done()
    {
        var time = new ManualTimeProvider(s_start);
        using var pool = Pool(time, slots: 1);
        var worker = pool.Workers.Single();
        Assert.Null(worker.InFlightSince);

        using var started = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var running = worker.Run(() => { started.Set(); gate.Wait(TimeSpan.FromMinutes(1)); });
        Assert.True(started.Wait(TimeSpan.FromMinutes(1)), "the operation never started");
        time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(s_start, worker.InFlightSince);

        gate.Set();
        await running;
        Assert.Null(worker.InFlightSince);
        // A failing operation clears it too.
        await Assert.ThrowsAsync<InvalidOperationException>(() => worker.Run(() => throw new InvalidOperationException("device error")));
        Assert.Null(worker.InFlightSince);
    }

    [Fact]
    public async Task Live_fails_only_while_one_operation_runs_longer_than_the_stall_timeout()
    {
        var time = new ManualTimeProvider(s_start);
        using var pool = Pool(time, slots: 2);
        var check = new DeviceProgressHealthCheck(pool, time, Options.Create(new ObservabilityOptions { DeviceStallTimeout = TimeSpan.FromMinutes(10) }));
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(check)).Status);

        var worker = pool.Workers.First();
        using var started = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var running = worker.Run(() => { started.Set(); gate.Wait(TimeSpan.FromMinutes(1)); });
        Assert.True(started.Wait(TimeSpan.FromMinutes(1)), "the operation never started");

        time.Advance(TimeSpan.FromMinutes(9)); // long, but within the limit
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(check)).Status);

        time.Advance(TimeSpan.FromMinutes(2));
        var stuck = await CheckAsync(check);
        Assert.Equal(HealthStatus.Unhealthy, stuck.Status);
        Assert.Contains($"{worker.NodeId} has run one operation for 660 s", stuck.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(pool.Workers.Last().NodeId + " has run", stuck.Description, StringComparison.Ordinal);

        gate.Set();
        await running;
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(check)).Status);
    }

    [Fact]
    public async Task Ready_fails_once_the_silo_begins_to_stop()
    {
        var lifetime = new TestLifetime();
        var check = new AcceptingStagesHealthCheck(lifetime);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(check)).Status);

        await lifetime.Stopping.CancelAsync();
        var draining = await CheckAsync(check);
        Assert.Equal(HealthStatus.Unhealthy, draining.Status);
        Assert.Contains("draining", draining.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_check_passes_on_a_reachable_store_and_names_an_unreachable_one()
    {
        string root = Path.Combine(Path.GetTempPath(), "cluster-health-tests", Guid.NewGuid().ToString("N")[..8]);
        var options = Options.Create(new ObservabilityOptions { HealthCheckTimeout = TimeSpan.FromSeconds(20) });
        try
        {
            var reachable = await CheckAsync(new CheckpointStoreHealthCheck(new FileSystemCheckpointStore(root), options));
            Assert.Equal(HealthStatus.Healthy, reachable.Status);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }

        // A blob endpoint where nothing listens: refused at once (no retries), or at the latest after the timeout.
        int closed = SiloProcess.FreePorts(1)[0];
        var clientOptions = new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06) { Retry = { MaxRetries = 0 } };
        var container = new BlobContainerClient(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Convert.ToBase64String(new byte[64])};BlobEndpoint=http://127.0.0.1:{closed}/devstoreaccount1;",
            "checkpoints", clientOptions);
        var unreachable = await CheckAsync(new CheckpointStoreHealthCheck(new AzureBlobCheckpointStore(container), options));
        Assert.Equal(HealthStatus.Unhealthy, unreachable.Status);
        Assert.Contains($"127.0.0.1:{closed}", unreachable.Description, StringComparison.Ordinal);
    }

    private static DeviceWorkerPool Pool(TimeProvider time, int slots) => new(
        new TestSiloDetails("unit"),
        Options.Create(new TrainingClusterOptions { DeviceSlots = slots, ThreadsPerSlot = 1, SlotMemoryBytes = 1 << 20 }),
        time, s_noHang, new ComputeFault());

    private static readonly ComputeHang s_noHang = new(); // no fault injected: these tests block a worker themselves

    private static Task<HealthCheckResult> CheckAsync(IHealthCheck check) =>
        check.CheckHealthAsync(new HealthCheckContext { Registration = new HealthCheckRegistration("test", check, null, null) });

    private sealed class TestLifetime : IHostApplicationLifetime
    {
        public CancellationTokenSource Stopping { get; } = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => Stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => Stopping.Cancel();
    }
}
