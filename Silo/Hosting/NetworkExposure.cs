using System.Net;
using Cluster.Grains.Security;
using Cluster.Silo.Configuration;
using Cluster.Tls;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Whether a silo's ports can be reached from other machines: then anyone who reaches them is a cluster member or a
/// client with full control, so the silo refuses to start without TLS unless <see cref="ClusterTlsOptions.AllowInsecure"/>,
/// and without a silo secret (a client could forge a grain as its messages' sender) unless
/// <see cref="ClientAuthorizationOptions.AllowUnstampedSiloCalls"/>.
/// </summary>
internal static class NetworkExposure
{
    /// <summary>How the silo is reachable beyond loopback, or null when it listens on loopback only.</summary>
    public static string? BeyondLoopback(SiloHostOptions host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.Membership.NormalizedProvider == MembershipOptions.Localhost)
            return null; // localhost clustering binds 127.0.0.1
        if (host.ListenOnAnyHostAddress)
            return $"{nameof(SiloHostOptions.ListenOnAnyHostAddress)} = true listens on every interface";
        if (string.IsNullOrWhiteSpace(host.AdvertisedIPAddress))
            return $"{host.Membership.Provider} membership without {nameof(SiloHostOptions.AdvertisedIPAddress)} listens on the host name's first address";
        return IPAddress.TryParse(host.AdvertisedIPAddress, out var address) && !IPAddress.IsLoopback(address)
            ? $"{nameof(SiloHostOptions.AdvertisedIPAddress)} = {address} listens beyond loopback"
            : null;
    }

    /// <summary>The refusal for a silo reachable beyond loopback without TLS, or null.</summary>
    public static string? Problem(SiloHostOptions host, ClusterTlsOptions tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        if (tls.Enabled || tls.AllowInsecure || BeyondLoopback(host) is not { } exposure)
            return null;
        return $"{ClusterTlsOptions.Section}:{nameof(ClusterTlsOptions.Enabled)} is false but {SiloHostOptions.Section}:{exposure} " +
               $"(silo port {host.SiloPort}, gateway port {host.GatewayPort}): anyone who reaches them could join the cluster or control every job. " +
               $"Turn TLS on (docs/deploy.md, section 4), listen on 127.0.0.1, or set {ClusterTlsOptions.Section}:{nameof(ClusterTlsOptions.AllowInsecure)}=true on an isolated network.";
    }

    /// <summary>The refusal for a silo reachable beyond loopback without <c>Authorization:SiloSecret</c>, or null.</summary>
    public static string? SiloSecretProblem(SiloHostOptions host, ClientAuthorizationOptions authorization)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        if (!string.IsNullOrEmpty(authorization.SiloSecret) || authorization.AllowUnstampedSiloCalls || BeyondLoopback(host) is not { } exposure)
            return null;
        const string section = ClientAuthorizationOptions.Section;
        return $"{section}:{nameof(ClientAuthorizationOptions.SiloSecret)} is not set but {SiloHostOptions.Section}:{exposure} " +
               $"(silo port {host.SiloPort}, gateway port {host.GatewayPort}): without it a client that builds its own Orleans messages and names a grain as their sender " +
               $"is taken for a silo and reaches internal grain methods, whatever its certificate. Set {section}:{nameof(ClientAuthorizationOptions.SiloSecret)} " +
               $"to the same secret of at least {SiloCallProof.MinSecretLength} characters on every silo (e.g. `openssl rand -base64 48`, kept like any secret; docs/security.md), " +
               $"listen on 127.0.0.1, or set {section}:{nameof(ClientAuthorizationOptions.AllowUnstampedSiloCalls)}=true on a network only the cluster's machines reach.";
    }
}
