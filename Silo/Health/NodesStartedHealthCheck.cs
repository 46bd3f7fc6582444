using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Cluster.Silo.Health;

/// <summary>
/// Healthy once every device slot's node grain has calibrated its device and registered with the scheduler (its state
/// is past Starting). Asks the node grains themselves; once all have started the answer is kept, since a node only
/// starts once per silo life (the startup probe stops asking then anyway).
/// </summary>
internal sealed class NodesStartedHealthCheck(DeviceWorkerPool workers, IGrainFactory grains, IOptions<ObservabilityOptions> options) : IHealthCheck
{
    private volatile bool _started;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_started) return HealthCheckResult.Healthy($"nodes started: {string.Join(", ", workers.NodeIds)}");
        var waiting = new List<string>();
        foreach (string nodeId in workers.NodeIds)
        {
            try
            {
                var health = await grains.GetGrain<INodeGrain>(nodeId).GetHealth()
                    .WaitAsync(options.Value.HealthCheckTimeout, cancellationToken).ConfigureAwait(false);
                if (health.State == NodeState.Starting) waiting.Add($"{nodeId} (calibrating)");
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                waiting.Add($"{nodeId} ({e.GetType().Name}: {e.Message})");
            }
        }
        if (waiting.Count > 0) return HealthCheckResult.Unhealthy($"nodes not started yet: {string.Join(", ", waiting)}");
        _started = true;
        return HealthCheckResult.Healthy($"nodes started: {string.Join(", ", workers.NodeIds)}");
    }
}
