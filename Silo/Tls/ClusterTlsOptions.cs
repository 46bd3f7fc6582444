using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Tls;

/// <summary>
/// Mutual TLS between silos and between clients and silos (section <c>Tls</c>). Every connection presents this
/// process's certificate and accepts the peer only when its certificate was issued by
/// <see cref="CertificateAuthorityPath"/> or its thumbprint is in <see cref="AllowedThumbprints"/>: only holders of a
/// trusted certificate can join the cluster or issue commands. Plain BCL types only: this file is linked into the
/// operator console too.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string Section = "Tls";

    /// <summary>Encrypt and authenticate every connection. <value>false.</value></summary>
    public bool Enabled { get; set; }

    /// <summary>This process's certificate with its private key: a .pfx/.p12 file, or a PEM file (.pem/.crt).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of the PFX file (or of an encrypted PEM key). A secret: never logged.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM private key when it is not in <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>PEM or DER certificate of the CA that issues the cluster's certificates: peers must chain to it.</summary>
    public string? CertificateAuthorityPath { get; set; }

    /// <summary>Peer certificates accepted by SHA-1 or SHA-256 thumbprint (hex), whoever issued them.</summary>
    public List<string> AllowedThumbprints { get; set; } = [];

    /// <summary>
    /// Silo only: start without TLS although the silo or gateway port is reachable beyond loopback (a trusted, isolated
    /// network). Every start then logs a warning. <value>false: such a silo refuses to start without TLS.</value>
    /// </summary>
    public bool AllowInsecure { get; set; }

    /// <summary>A peer that has not completed the handshake by then is dropped. <value>10 s.</value></summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every problem, each naming the key (relative to <c>Tls</c>) and the fix; loads the files to check them.</summary>
    public IReadOnlyList<string> Validate()
    {
        if (!Enabled) return [];
        var problems = new List<string>();
        if (RevocationTimeout <= TimeSpan.Zero)
            problems.Add($"{nameof(RevocationTimeout)} = {RevocationTimeout} must be positive, e.g. 00:00:05.");
        if (HandshakeTimeout <= TimeSpan.Zero)
            problems.Add($"{nameof(HandshakeTimeout)} = {HandshakeTimeout} must be positive, e.g. 00:00:10.");
        if (string.IsNullOrWhiteSpace(CertificateAuthorityPath) && AllowedThumbprints.Count == 0)
            problems.Add($"{nameof(CertificateAuthorityPath)} and {nameof(AllowedThumbprints)} are both empty: with TLS on, say whom to trust " +
                         "(the CA certificate that issued the cluster's certificates, or the peers' thumbprints).");
        if (string.IsNullOrWhiteSpace(CertificatePath))
        {
            problems.Add($"{nameof(CertificatePath)} is missing: with TLS on, give this machine's certificate (.pfx with {nameof(CertificatePassword)}, or .pem with {nameof(KeyPath)}).");
        }
        else if (!File.Exists(CertificatePath))
        {
            problems.Add($"{nameof(CertificatePath)} = '{CertificatePath}': no such file.");
        }
        else if (!string.IsNullOrWhiteSpace(KeyPath) && !File.Exists(KeyPath))
        {
            problems.Add($"{nameof(KeyPath)} = '{KeyPath}': no such file.");
        }
        else
        {
            try
            {
                using var certificate = LoadCertificate();
                if (!certificate.HasPrivateKey)
                    problems.Add($"{nameof(CertificatePath)} = '{CertificatePath}' has no private key: use a .pfx that contains it, or give the PEM key in {nameof(KeyPath)}.");
            }
            catch (CryptographicException e)
            {
                problems.Add($"{nameof(CertificatePath)} = '{CertificatePath}' could not be opened ({e.Message.TrimEnd('.')}): check that it is a PFX/PKCS#12 " +
                             $"or PEM certificate, that {nameof(KeyPath)} (PEM) holds its private key, and {nameof(CertificatePassword)}.");
            }
        }
        if (!string.IsNullOrWhiteSpace(CertificateAuthorityPath))
        {
            try
            {
                using var _ = LoadAuthority();
            }
            catch (Exception e) when (e is CryptographicException or IOException)
            {
                problems.Add($"{nameof(CertificateAuthorityPath)} = '{CertificateAuthorityPath}' is not a readable PEM or DER certificate ({e.Message.TrimEnd('.')}).");
            }
        }
        foreach (string thumbprint in AllowedThumbprints.Where(t => NormalizeThumbprint(t) is not { Length: 40 or 64 } || !NormalizeThumbprint(t).All(char.IsAsciiHexDigit)))
            problems.Add($"{nameof(AllowedThumbprints)} entry '{thumbprint}' is not a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint.");
        return problems;
    }

    /// <summary>This process's certificate with its private key.</summary>
    public X509Certificate2 LoadCertificate()
    {
        string path = CertificatePath ?? throw new InvalidOperationException($"{Section}:{nameof(CertificatePath)} is not set.");
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".pfx" or ".p12")
            return X509CertificateLoader.LoadPkcs12FromFile(path, CertificatePassword, X509KeyStorageFlags.EphemeralKeySet);
        return string.IsNullOrEmpty(CertificatePassword)
            ? X509Certificate2.CreateFromPemFile(path, string.IsNullOrWhiteSpace(KeyPath) ? null : KeyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, CertificatePassword, string.IsNullOrWhiteSpace(KeyPath) ? null : KeyPath);
    }

    /// <summary>The configured CA certificate, or null.</summary>
    public X509Certificate2? LoadAuthority() => string.IsNullOrWhiteSpace(CertificateAuthorityPath)
        ? null
        : X509CertificateLoader.LoadCertificateFromFile(CertificateAuthorityPath);

    /// <summary>
    /// Check that a peer's certificate (and any intermediate) has not been revoked, from the CRLs its issuer publishes
    /// (the certificates' CRL distribution points, fetched over HTTP and cached). A revoked certificate is refused; one
    /// whose status cannot be learned (no distribution point, CRL unreachable) is accepted: turn this off on air-gapped
    /// fleets, where every fetch would wait for <see cref="RevocationTimeout"/>. <value>true.</value>
    /// </summary>
    public bool CheckRevocation { get; set; } = true;

    /// <summary>How long one CRL fetch may take. <value>5 s.</value></summary>
    public TimeSpan RevocationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Decides whether a peer's certificate is trusted: its thumbprint is allowed, or it chains to the configured CA
    /// (and to nothing else: the machine's own trust store plays no part) and is not revoked. <paramref name="rejected"/> hears why not.
    /// </summary>
    public Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool> CreatePeerValidator(Action<X509Certificate2, string>? rejected = null)
    {
        var untrusted = CreateTrustCheck();
        return (certificate, _, _) =>
        {
            if (untrusted(certificate) is not { } reason) return true;
            rejected?.Invoke(certificate, reason);
            return false;
        };
    }

    /// <summary>The trust rule of <see cref="CreatePeerValidator"/> as a function: null when trusted, else why not.</summary>
    public Func<X509Certificate2, string?> CreateTrustCheck()
    {
        var allowed = AllowedThumbprints.Select(NormalizeThumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var authority = LoadAuthority();
        return certificate =>
        {
            if (allowed.Contains(certificate.Thumbprint) || allowed.Contains(certificate.GetCertHashString(HashAlgorithmName.SHA256)))
                return null;
            if (authority is null) return "its thumbprint is not in AllowedThumbprints";
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = CheckRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
            chain.ChainPolicy.RevocationFlag = X509RevocationFlag.ExcludeRoot;
            chain.ChainPolicy.UrlRetrievalTimeout = RevocationTimeout;
            // Soft-fail on an unknown status (see CheckRevocation); a certificate listed as revoked still fails.
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreEndRevocationUnknown | X509VerificationFlags.IgnoreCertificateAuthorityRevocationUnknown;
            if (chain.Build(certificate)) return null;
            return $"not issued by the trusted CA, or revoked ({string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}), and not an allowed thumbprint";
        };
    }

    private static string NormalizeThumbprint(string thumbprint) => thumbprint.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Trim();
}
