using Cluster.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Silo side of <see cref="ClusterTlsOptions"/>: every silo-to-silo connection (both directions) and every
/// client-to-gateway connection is mutual TLS, and a peer whose certificate is not trusted is refused and logged.
/// </summary>
internal static partial class TlsHostingExtensions
{
    public static ISiloBuilder UseConfiguredTls(this ISiloBuilder silo, ClusterTlsOptions tls)
    {
        if (!tls.Enabled) return silo;
        var certificate = tls.LoadCertificate();
        return silo.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(c => c.UseServerTls(Options(c)));
            connections.ConfigureGatewayInboundConnection(c => c.UseServerTls(Options(c)));
            connections.ConfigureSiloOutboundConnection(c => c.UseClientTls(Options(c)));
        });

        TlsOptions Options(IConnectionBuilder connection)
        {
            var logger = connection.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Cluster.Silo.Tls");
            var validator = tls.CreatePeerValidator((peer, reason) => LogPeerRefused(logger, peer.Subject, peer.Thumbprint, reason));
            return new TlsOptions
            {
                LocalCertificate = certificate,
                // Both sides must present a certificate: a silo dialling another and a client dialling a gateway alike.
                RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
                ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
                HandshakeTimeout = tls.HandshakeTimeout,
                RemoteCertificateValidation = (peer, chain, errors) => validator(peer, chain, errors),
            };
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Refused a TLS peer with certificate {Subject} ({Thumbprint}): {Reason}")]
    private static partial void LogPeerRefused(ILogger logger, string subject, string thumbprint, string reason);
}
