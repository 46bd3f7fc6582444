using Cluster.Silo.Configuration;
using Cluster.Tls;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Silo.Hosting;

/// <summary>Logs, on every start, that this silo is reachable beyond loopback without TLS because <c>Tls:AllowInsecure</c> is set.</summary>
internal sealed partial class InsecureStartWarning(SiloHostOptions host, ClusterTlsOptions tls, ILogger<InsecureStartWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!tls.Enabled && tls.AllowInsecure && NetworkExposure.BeyondLoopback(host) is { } exposure)
            LogInsecure(logger, exposure, host.SiloPort, host.GatewayPort);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Warning, "INSECURE: TLS is off and Tls:AllowInsecure=true, while {Exposure} (silo port {SiloPort}, gateway port {GatewayPort}): anyone who reaches these ports can join the cluster or control every job. Turn Tls:Enabled on unless this network is isolated.")]
    private static partial void LogInsecure(ILogger logger, string exposure, int siloPort, int gatewayPort);
}
