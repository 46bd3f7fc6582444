using System.Net;
using Cluster.Silo.Configuration;
using Cluster.Tls;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Whether a silo's ports can be reached from other machines: then anyone who reaches them is a cluster member or a
/// client with full control, so the silo refuses to start without TLS unless <see cref="ClusterTlsOptions.AllowInsecure"/>.
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
}
