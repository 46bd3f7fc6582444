using Cluster.Grains.Hosting;
using Cluster.Grains.Telemetry;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cluster.Silo.Hosting;

/// <summary>
/// OpenTelemetry: metrics — the training cluster's (<see cref="TrainingMetrics"/>), Orleans' own and the .NET runtime's —
/// served for Prometheus at http://PrometheusHost:PrometheusPort/metrics when <see cref="ObservabilityOptions.PrometheusPort"/>
/// is set, and metrics, traces (Orleans' grain-call spans and the training spans of <see cref="TrainingActivities"/>) and logs sent over OTLP when <see cref="ObservabilityOptions.OtlpEndpoint"/> is.
/// </summary>
internal static class MetricsHostingExtensions
{
    public const string ServiceName = "cluster-silo";

    private const string OrleansMeter = "Microsoft.Orleans";
    private const string RuntimeMeter = "System.Runtime";
    private static readonly string[] s_orleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    public static IHostApplicationBuilder AddConfiguredMetrics(this IHostApplicationBuilder builder, SiloSettings settings)
    {
        var observability = settings.Observability;
        if (observability.PrometheusPort == 0 && observability.OtlpEndpoint is null) return builder;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName,
                serviceInstanceId: string.IsNullOrWhiteSpace(settings.Host.SiloName) ? Environment.MachineName : settings.Host.SiloName));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(TrainingMetrics.MeterName, OrleansMeter, RuntimeMeter);
            if (observability.PrometheusPort > 0)
            {
                metrics.AddPrometheusHttpListener(o =>
                {
                    o.Host = observability.PrometheusHost;
                    o.Port = observability.PrometheusPort;
                });
            }
            if (observability.OtlpEndpoint is not null) metrics.AddOtlpExporter(o => Configure(o, observability, "v1/metrics"));
        });
        if (observability.OtlpEndpoint is null) return builder;
        telemetry.WithTracing(tracing => tracing.AddSource(s_orleansSources).AddSource(TrainingActivities.SourceName).AddOtlpExporter(o => Configure(o, observability, "v1/traces")));
        telemetry.WithLogging(logging => logging.AddOtlpExporter(o => Configure(o, observability, "v1/logs")));
        return builder;
    }

    /// <summary>The collector's address; with HTTP, each signal goes to its own path under it (/v1/metrics, /v1/traces, /v1/logs).</summary>
    private static void Configure(OtlpExporterOptions options, ObservabilityOptions observability, string signalPath)
    {
        var endpoint = observability.OtlpEndpoint!;
        if (observability.OtlpProtocol.Equals("HttpProtobuf", StringComparison.OrdinalIgnoreCase))
        {
            // An endpoint set in code is used as is over HTTP: add the signal's path, as OTEL_EXPORTER_OTLP_ENDPOINT would.
            options.Protocol = OtlpExportProtocol.HttpProtobuf;
            options.Endpoint = new Uri(endpoint.ToString().TrimEnd('/') + "/" + signalPath);
        }
        else
        {
            options.Protocol = OtlpExportProtocol.Grpc;
            options.Endpoint = endpoint;
        }
    }
}
