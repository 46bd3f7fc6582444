using System.Security.Cryptography.X509Certificates;

namespace Cluster.Grains.Interfaces.Security;

/// <summary>
/// Client side of <see cref="CallCredentials"/>: signs every outgoing call with this client's certificate, so that the
/// silos can tell which principal makes it. Registered by the console's TLS set-up.
/// </summary>
public sealed class CallSigningFilter(X509Certificate2 certificate, TimeProvider time) : IOutgoingGrainCallFilter
{
    private readonly byte[] _certificate = certificate.RawData;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        long at = time.GetUtcNow().ToUnixTimeMilliseconds();
        byte[] payload = CallCredentials.Payload(context.TargetId.ToString(), context.InterfaceName, context.MethodName, at);
        RequestContext.Set(CallCredentials.CertificateKey, _certificate);
        RequestContext.Set(CallCredentials.TimestampKey, at);
        RequestContext.Set(CallCredentials.SignatureKey, CallCredentials.Sign(certificate, payload));
        await context.Invoke(); // async: the keys leave the caller's request context when the call returns
    }
}
