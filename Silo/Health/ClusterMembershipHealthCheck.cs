using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Cluster.Silo.Health;

/// <summary>Healthy once this silo is Active in the cluster's membership (it has joined); unhealthy while joining or leaving.</summary>
internal sealed class ClusterMembershipHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo '{silo.Name}' is active in cluster '{silo.ClusterId}'")
            : HealthCheckResult.Unhealthy($"silo '{silo.Name}' is {status} in the membership of cluster '{silo.ClusterId}', not Active"));
    }
}
