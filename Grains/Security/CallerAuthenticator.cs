using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>
/// Silo side of <see cref="CallCredentials"/>: turns the certificate and signature a client call carries into a
/// <see cref="CallerPrincipal"/>, or says why it cannot. The trust decision (CA chain, revocation) is the TLS
/// configuration's, cached per certificate for <see cref="TrustCacheTime"/>.
/// </summary>
public sealed class CallerAuthenticator(ClientAuthorizationOptions options, Func<X509Certificate2, string?> untrustedBecause, TimeProvider time)
{
    /// <summary>How long a certificate's trust decision is reused (revocation is checked again after it).</summary>
    public static readonly TimeSpan TrustCacheTime = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (string? Refusal, DateTimeOffset Until)> _trust = new(StringComparer.Ordinal);

    /// <summary>The caller, or (null, why not) naming the fix.</summary>
    public (CallerPrincipal? Principal, string? Refusal) Authenticate(string target, string interfaceName, string method,
        object? certificate, object? signature, object? signedAt)
    {
        if (certificate is not byte[] der || signature is not byte[] sig || signedAt is not long at)
            return (null, "the call carries no signed credentials: with TLS on, connect with a certificate (the console signs every call with it).");
        X509Certificate2 caller;
        try
        {
            caller = X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException)
        {
            return (null, "the certificate the call carries does not parse.");
        }
        using (caller)
        {
            var now = time.GetUtcNow();
            var signed = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(at, -62135596800000L, 253402300799999L));
            if ((now - signed).Duration() > options.MaxClockSkew)
                return (null, $"the call was signed at {signed:O}, more than {options.MaxClockSkew} from the silo's clock ({now:O}): check the client's clock.");
            if (!CallCredentials.Verify(caller, CallCredentials.Payload(target, interfaceName, method, at), sig))
                return (null, $"the call's signature does not match certificate {caller.Subject}: the client does not hold its private key.");
            string sha256 = caller.GetCertHashString(HashAlgorithmName.SHA256);
            if (Trust(caller, sha256, now) is { } untrusted)
                return (null, $"certificate {caller.Subject} ({caller.Thumbprint}) is not trusted: {untrusted}.");
            var principal = options.Find(caller.Subject, caller.Thumbprint, sha256);
            return principal is null
                ? (null, $"certificate {caller.Subject} ({caller.Thumbprint}) is trusted but maps to no principal: an admin adds it under Authorization:Principals (subject or thumbprint, role, teams).")
                : (principal, null);
        }
    }

    private string? Trust(X509Certificate2 certificate, string sha256, DateTimeOffset now)
    {
        if (_trust.TryGetValue(sha256, out var cached) && cached.Until > now) return cached.Refusal;
        string? refusal = untrustedBecause(certificate);
        _trust[sha256] = (refusal, now + TrustCacheTime);
        return refusal;
    }
}
