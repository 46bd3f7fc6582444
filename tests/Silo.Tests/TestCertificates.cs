using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Silo.Tests;

/// <summary>
/// A throw-away PKI for the TLS tests: a CA, certificates it issues (PFX, or PEM certificate + key) and a self-signed
/// stranger, written to <see cref="Directory"/>.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    public const string Password = "test-pfx-password";

    private readonly X509Certificate2 _authority;

    public TestCertificates(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Cluster Test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        AuthorityPath = Path.Combine(directory, "ca.crt");
        File.WriteAllText(AuthorityPath, _authority.ExportCertificatePem());
    }

    public string Directory { get; }

    public string AuthorityPath { get; }

    /// <summary>A certificate issued by the CA, as a password-protected PFX file; its path.</summary>
    public string IssuePfx(string name)
    {
        using var certificate = Create(name, issuer: _authority);
        string path = Path.Combine(Directory, $"{name}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }

    /// <summary>A certificate issued by the CA as PEM files: (certificate path, key path).</summary>
    public (string Certificate, string Key) IssuePem(string name)
    {
        using var certificate = Create(name, issuer: _authority);
        string certificatePath = Path.Combine(Directory, $"{name}.crt"), keyPath = Path.Combine(Directory, $"{name}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <summary>A self-signed certificate the CA never issued, as a PFX file; its path.</summary>
    public string SelfSignedPfx(string name)
    {
        using var certificate = Create(name, issuer: null);
        string path = Path.Combine(Directory, $"{name}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }

    private static X509Certificate2 Create(string name, X509Certificate2? issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // Silos are TLS servers (inbound) and clients (outbound): both usages.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var notBefore = DateTimeOffset.UtcNow.AddHours(-1);
        var notAfter = DateTimeOffset.UtcNow.AddHours(12);
        if (issuer is null) return request.CreateSelfSigned(notBefore, notAfter);
        using var issued = request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose() => _authority.Dispose();
}
