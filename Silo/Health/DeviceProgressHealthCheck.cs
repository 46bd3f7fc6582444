using Cluster.Grains.Compute;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Cluster.Silo.Health;

/// <summary>
/// Unhealthy when an operation has run on a device worker for longer than <see cref="ObservabilityOptions.DeviceStallTimeout"/>
/// — a hung kernel, driver or collective that only a restart clears. An idle worker, or one that keeps finishing
/// operations, is making progress.
/// </summary>
internal sealed class DeviceProgressHealthCheck(DeviceWorkerPool workers, TimeProvider time, IOptions<ObservabilityOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var limit = options.Value.DeviceStallTimeout;
        var now = time.GetUtcNow();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var stuck = new List<string>();
        foreach (var worker in workers.Workers)
        {
            if (worker.InFlightSince is not { } since)
            {
                data[worker.NodeId] = "idle";
                continue;
            }
            var running = now - since;
            data[worker.NodeId] = $"running for {running.TotalSeconds:F1} s";
            if (running > limit) stuck.Add($"{worker.NodeId} has run one operation for {running.TotalSeconds:F0} s");
        }
        return Task.FromResult(stuck.Count == 0
            ? HealthCheckResult.Healthy($"{workers.Workers.Count} device worker(s) making progress", data)
            : HealthCheckResult.Unhealthy(
                $"device worker(s) stuck: {string.Join("; ", stuck)} (Observability:DeviceStallTimeout = {limit})", data: data));
    }
}
