using Cluster.Grains.Hosting;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace Cluster.Silo.Hosting;

/// <summary>
/// OpenTelemetry metrics — the training cluster's (<see cref="TrainingMetrics"/>) and Orleans' own — served for
/// Prometheus at http://PrometheusHost:PrometheusPort/metrics when <see cref="ObservabilityOptions.PrometheusPort"/> is set.
/// </summary>
internal static class MetricsHostingExtensions
{
    private const string OrleansMeter = "Microsoft.Orleans";

    public static IHostApplicationBuilder AddConfiguredMetrics(this IHostApplicationBuilder builder, ObservabilityOptions observability)
    {
        if (observability.PrometheusPort == 0) return builder;
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(TrainingMetrics.MeterName, OrleansMeter)
            .AddPrometheusHttpListener(o =>
            {
                o.Host = observability.PrometheusHost;
                o.Port = observability.PrometheusPort;
            }));
        return builder;
    }
}
