using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Grains.Tests;

/// <summary>An in-memory CA for the authorization tests: certificates it issues, self-signed strangers, and its trust rule.</summary>
internal sealed class TestPki : IDisposable
{
    private readonly X509Certificate2 _authority;
    private readonly List<X509Certificate2> _issued = [];

    public TestPki()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Cluster Test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A certificate (with its private key) for <c>CN=<paramref name="name"/></c>, issued by the CA or self-signed.</summary>
    public X509Certificate2 Issue(string name, bool byAuthority = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var notBefore = DateTimeOffset.UtcNow.AddHours(-1);
        var notAfter = DateTimeOffset.UtcNow.AddHours(12);
        X509Certificate2 certificate;
        if (byAuthority)
        {
            using var issued = request.Create(_authority, notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
            certificate = issued.CopyWithPrivateKey(key);
        }
        else
        {
            certificate = request.CreateSelfSigned(notBefore, notAfter);
        }
        _issued.Add(certificate);
        return certificate;
    }

    /// <summary>Null when the certificate chains to this CA, else why not (the silo's rule, without revocation).</summary>
    public string? Untrusted(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate) ? null : "not issued by the test CA";
    }

    public void Dispose()
    {
        foreach (var certificate in _issued) certificate.Dispose();
        _authority.Dispose();
    }
}
