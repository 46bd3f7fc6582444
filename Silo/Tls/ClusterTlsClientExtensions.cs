using Cluster.Grains.Interfaces.Security;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Connections.Security;

namespace Cluster.Tls;

/// <summary>Client side of <see cref="ClusterTlsOptions"/>: linked into the operator console (needs Microsoft.Orleans.Connections.Security).</summary>
public static class ClusterTlsClientExtensions
{
    /// <summary>
    /// Connects over mutual TLS when <paramref name="tls"/> is enabled (else does nothing). Throws
    /// <see cref="InvalidOperationException"/> listing every problem (keys prefixed <c>Tls:</c>) when the settings are invalid.
    /// </summary>
    public static IClientBuilder UseClusterTls(this IClientBuilder client, ClusterTlsOptions tls)
    {
        if (!tls.Enabled) return client;
        var problems = tls.Validate();
        if (problems.Count > 0)
            throw new InvalidOperationException("TLS settings are invalid: " + string.Join(" ", problems.Select(p => $"{ClusterTlsOptions.Section}:{p}")));
        var validator = tls.CreatePeerValidator();
        var certificate = tls.LoadCertificate();
        // Every call carries a signature made with this certificate: the silos authorise the principal it maps to.
        client.Services.AddSingleton<IOutgoingGrainCallFilter>(sp => new CallSigningFilter(certificate, sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return client.UseTls(certificate, o =>
        {
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.HandshakeTimeout = tls.HandshakeTimeout;
            o.RemoteCertificateValidation = (certificate, chain, errors) => validator(certificate, chain, errors);
        });
    }
}
