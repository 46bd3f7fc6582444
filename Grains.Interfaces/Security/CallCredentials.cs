using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Cluster.Grains.Interfaces.Security;

/// <summary>
/// How a client proves, call by call, which certificate it holds: it attaches the certificate and a signature made with
/// its private key over the call's target, interface, method and time (request-context keys below). A silo checks the
/// signature, the time and that the certificate is trusted (issued by the cluster's CA, not revoked) before it maps the
/// certificate to a principal. The proof does not depend on which connection the call arrived on.
/// </summary>
public static class CallCredentials
{
    /// <summary>The caller's certificate (DER bytes).</summary>
    public const string CertificateKey = "cluster.auth.certificate";

    /// <summary>The signature over <see cref="Payload"/> (bytes).</summary>
    public const string SignatureKey = "cluster.auth.signature";

    /// <summary>When the call was signed, Unix milliseconds.</summary>
    public const string TimestampKey = "cluster.auth.at";

    /// <summary>Set by the silo for an authorised client call (a client's own value is discarded): the principal's name.</summary>
    public const string PrincipalKey = "cluster.principal";

    /// <summary>Set by the silo with <see cref="PrincipalKey"/> (a client's own value is discarded): the principal's <see cref="OperatorRole"/>, as an int.</summary>
    public const string PrincipalRoleKey = "cluster.principal.role";

    /// <summary>The bytes signed for one call.</summary>
    public static byte[] Payload(string target, string interfaceName, string method, long unixMilliseconds) =>
        Encoding.UTF8.GetBytes(string.Join('\n', "cluster-call-v1", target, interfaceName, method, unixMilliseconds.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Signs <paramref name="payload"/> with the certificate's private key (ECDSA or RSA-PSS, SHA-256).</summary>
    public static byte[] Sign(X509Certificate2 certificate, byte[] payload)
    {
        using var ecdsa = certificate.GetECDsaPrivateKey();
        if (ecdsa is not null) return ecdsa.SignData(payload, HashAlgorithmName.SHA256);
        using var rsa = certificate.GetRSAPrivateKey()
            ?? throw new InvalidOperationException($"Certificate {certificate.Subject} has no ECDSA or RSA private key: calls cannot be signed with it.");
        return rsa.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
    }

    /// <summary>Whether <paramref name="signature"/> over <paramref name="payload"/> was made with the certificate's key.</summary>
    public static bool Verify(X509Certificate2 certificate, byte[] payload, byte[] signature)
    {
        using var ecdsa = certificate.GetECDsaPublicKey();
        if (ecdsa is not null) return ecdsa.VerifyData(payload, signature, HashAlgorithmName.SHA256);
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is not null && rsa.VerifyData(payload, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
    }
}
