using Cluster.Silo.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Silo.Health;

/// <summary>
/// A small web server of its own for the three probes, answering 200 (healthy or degraded) or 503 with a JSON body
/// naming each check's state. Its own server, not the dashboard's web host, so that it can start before the silo and
/// stop only after the silo has drained and left: a rolling update's probes must keep answering during the drain.
/// </summary>
internal sealed partial class HealthProbeServer(HealthCheckService health, IOptions<ObservabilityOptions> options, ILogger<HealthProbeServer> logger)
    : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // the silo's own log says what matters; Kestrel's start-up chatter is not it
        builder.WebHost.UseUrls($"http://{settings.HealthHost}:{settings.HealthPort}");
        var app = builder.Build();
        app.MapGet(HealthProbes.StartupPath, context => ProbeAsync(context, HealthProbes.StartupTag));
        app.MapGet(HealthProbes.ReadyPath, context => ProbeAsync(context, HealthProbes.ReadyTag));
        app.MapGet(HealthProbes.LivePath, context => ProbeAsync(context, HealthProbes.LiveTag));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"The health probes cannot listen on http://{settings.HealthHost}:{settings.HealthPort} (Observability:HealthHost/HealthPort): {e.Message}", e);
        }
        _app = app;
        LogListening(logger, settings.HealthHost, settings.HealthPort);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app) await app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ProbeAsync(HttpContext context, string tag)
    {
        var report = await health.CheckHealthAsync(registration => registration.Tags.Contains(tag), context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        context.Response.Headers.CacheControl = "no-store";
        await HealthResponseWriter.WriteAsync(context, report).ConfigureAwait(false);
    }

    [LoggerMessage(1, LogLevel.Information, "Health probes at http://{Host}:{Port}/health/startup, /health/ready, /health/live")]
    private static partial void LogListening(ILogger logger, string host, int port);
}
