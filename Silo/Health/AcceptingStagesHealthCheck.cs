using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Cluster.Silo.Health;

/// <summary>
/// Unhealthy from the moment the silo begins to stop (SIGTERM, a rolling update): it is draining its nodes and takes
/// no new stages, so a load balancer or Kubernetes Service should send new work elsewhere.
/// </summary>
internal sealed class AcceptingStagesHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("draining: the silo is shutting down and moving its stages away")
            : HealthCheckResult.Healthy("accepting stages"));
}
