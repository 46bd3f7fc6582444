using Cluster.Grains.Security;
using Cluster.Silo.Configuration;
using Cluster.Tls;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Logs, on every start of a silo reachable beyond loopback, what its settings leave open: no TLS because
/// <c>Tls:AllowInsecure</c> is set, or no <c>Authorization:SiloSecret</c> because <c>Authorization:AllowUnstampedSiloCalls</c>
/// is set, so that a client that forges Orleans messages naming a grain as their sender is taken for a silo and reaches
/// internal grain methods. (Without those opt-outs such a silo does not start: <see cref="NetworkExposure"/>.)
/// </summary>
internal sealed partial class InsecureStartWarning(SiloHostOptions host, ClusterTlsOptions tls, ILogger<InsecureStartWarning> logger,
    ClientAuthorizationOptions? authorization = null) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (NetworkExposure.BeyondLoopback(host) is not { } exposure) return Task.CompletedTask;
        if (!tls.Enabled && tls.AllowInsecure)
            LogInsecure(logger, exposure, host.SiloPort, host.GatewayPort);
        if (authorization is not null && string.IsNullOrEmpty(authorization.SiloSecret))
            LogNoSiloSecret(logger, exposure);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Warning, "INSECURE: TLS is off and Tls:AllowInsecure=true, while {Exposure} (silo port {SiloPort}, gateway port {GatewayPort}): anyone who reaches these ports can join the cluster or control every job. Turn Tls:Enabled on unless this network is isolated.")]
    private static partial void LogInsecure(ILogger logger, string exposure, int siloPort, int gatewayPort);

    [LoggerMessage(2, LogLevel.Warning, "UNSTAMPED SILO CALLS: Authorization:SiloSecret is not set and Authorization:AllowUnstampedSiloCalls=true, while {Exposure}: a client that builds its own Orleans messages and names a grain as their sender is taken for a silo and reaches internal grain methods. Set the same secret of at least 32 characters on every silo (e.g. `openssl rand -base64 48`) unless only the cluster's machines reach this network; see docs/security.md.")]
    private static partial void LogNoSiloSecret(ILogger logger, string exposure);
}
