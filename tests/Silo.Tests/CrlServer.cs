using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Grains.Hosting;

namespace Cluster.Silo.Tests;

/// <summary>
/// A throw-away CA that publishes a CRL over HTTP on 127.0.0.1: the certificates it issues name that CRL as their
/// distribution point, and <see cref="Revoke"/> lists one in the CRL the server hands out from then on.
/// </summary>
internal sealed class CrlServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly X509Certificate2 _authority;
    private readonly ECDsa _authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly List<byte[]> _revoked = [];
    private readonly Task _serving;
    private int _requests;

    public CrlServer(string directory)
    {
        int port = LoopbackPorts.Free(1)[0];
        CrlUrl = $"http://127.0.0.1:{port}/ca.crl";
        // A fresh subject per run: .NET caches fetched CRLs on disk by issuer, and a stale one must never answer.
        var request = new CertificateRequest($"CN=Revocation Test CA {Guid.NewGuid():N}", _authorityKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        AuthorityPath = Path.Combine(directory, "crl-ca.crt");
        File.WriteAllText(AuthorityPath, _authority.ExportCertificatePem());
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = ServeAsync();
    }

    public string CrlUrl { get; }

    public string AuthorityPath { get; }

    /// <summary>How many times the CRL was fetched.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>A certificate (with its key) issued by the CA, naming the CRL as its distribution point.</summary>
    public X509Certificate2 Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([CrlUrl]));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));
        using var issued = request.Create(_authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Lists <paramref name="certificate"/> in the CRL served from now on.</summary>
    public void Revoke(X509Certificate2 certificate)
    {
        lock (_revoked) _revoked.Add(certificate.SerialNumberBytes.ToArray());
    }

    private byte[] Crl()
    {
        var builder = new CertificateRevocationListBuilder();
        lock (_revoked)
        {
            foreach (byte[] serial in _revoked)
                builder.AddEntry(serial, DateTimeOffset.UtcNow.AddMinutes(-5), X509RevocationReason.KeyCompromise);
        }
        return builder.Build(_authority, crlNumber: 1, nextUpdate: DateTimeOffset.UtcNow.AddDays(1), HashAlgorithmName.SHA256);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            Interlocked.Increment(ref _requests);
            byte[] body = Crl();
            context.Response.ContentType = "application/pkix-crl";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving;
        _listener.Close();
        _authority.Dispose();
        _authorityKey.Dispose();
    }
}
