using Cluster.Silo.Configuration;
using Cluster.Silo.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Health probes on <see cref="ObservabilityOptions.HealthPort"/>: <c>/health/startup</c>, <c>/health/ready</c> and
/// <c>/health/live</c> (see <see cref="HealthProbeServer"/>). Call before <c>UseOrleans</c>, so that the probe server
/// starts before the silo and stops after it has left the cluster.
/// </summary>
internal static class HealthHostingExtensions
{
    public static IHostApplicationBuilder AddConfiguredHealthChecks(this IHostApplicationBuilder builder, ObservabilityOptions observability)
    {
        if (observability.HealthPort == 0) return builder;
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(observability));
        builder.Services.AddHealthChecks()
            .AddCheck<ClusterMembershipHealthCheck>("cluster-membership", tags: [HealthProbes.StartupTag, HealthProbes.ReadyTag])
            .AddCheck<NodesStartedHealthCheck>("nodes-started", tags: [HealthProbes.StartupTag])
            .AddCheck<AcceptingStagesHealthCheck>("accepting-stages", tags: [HealthProbes.ReadyTag])
            .AddCheck<CheckpointStoreHealthCheck>("checkpoint-store", tags: [HealthProbes.ReadyTag])
            .AddCheck<DeviceProgressHealthCheck>("device-progress", tags: [HealthProbes.LiveTag]);
        builder.Services.AddHostedService<HealthProbeServer>();
        return builder;
    }
}
