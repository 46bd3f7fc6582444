using Cluster.Grains.Security;
using Cluster.Tls;

namespace Cluster.Silo.Hosting;

/// <summary>
/// The silo's client gate: clients reach only the operator-facing methods. With TLS on, each client call must be
/// signed with a certificate the TLS settings trust (CA, revocation) and that <c>Authorization:Principals</c> maps to a
/// role allowing the call; without TLS (loopback only, or <c>Tls:AllowInsecure</c>) the local user is admin. With
/// <c>Authorization:SiloSecret</c>, a call is a silo's only when it carries the silos' stamp.
/// </summary>
internal static class OperatorSurfaceHostingExtensions
{
    public static ISiloBuilder UseOperatorSurface(this ISiloBuilder silo, ClusterTlsOptions tls, ClientAuthorizationOptions authorization)
    {
        var siloProof = authorization.CreateSiloProof(TimeProvider.System); // Authorization:SiloSecret: calls from silos carry its stamp
        return tls.Enabled ? silo.AddOperatorSurface(authorization, tls.CreateTrustCheck(), siloProof) : silo.AddOperatorSurface(siloProof);
    }
}
