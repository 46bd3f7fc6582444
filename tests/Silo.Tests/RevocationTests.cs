using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Security;
using Cluster.Tls;

namespace Cluster.Silo.Tests;

/// <summary>
/// Revocation against a live CRL: a CA publishes its CRL from an HTTP listener on 127.0.0.1, and the silo's trust
/// rule (the one TLS handshakes and signed console calls both use) refuses the certificate the CRL lists.
/// </summary>
public sealed class RevocationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"revocation-{Guid.NewGuid():N}");

    [Fact]
    public async Task A_revoked_operator_certificate_is_refused_and_a_good_one_accepted()
    {
        Directory.CreateDirectory(_directory);
        await using var ca = new CrlServer(_directory);
        using var revoked = ca.Issue("mallory");
        using var good = ca.Issue("alice");
        ca.Revoke(revoked);
        var tls = new ClusterTlsOptions { Enabled = true, CertificateAuthorityPath = ca.AuthorityPath, CheckRevocation = true, RevocationTimeout = TimeSpan.FromSeconds(10) };

        var untrusted = tls.CreateTrustCheck();
        string? refusal = untrusted(revoked);
        Assert.NotNull(refusal);
        Assert.Contains("revoked", refusal, StringComparison.OrdinalIgnoreCase);
        Assert.Null(untrusted(good));
        Assert.True(ca.Requests >= 1, "the CRL was never fetched");

        // A console call signed with the revoked certificate is refused although the map makes it an admin.
        var authorization = new ClientAuthorizationOptions
        {
            Principals = [new PrincipalEntry { Subject = "CN=mallory", Role = "admin" }, new PrincipalEntry { Subject = "CN=alice", Role = "operator" }],
        };
        var authenticator = new CallerAuthenticator(authorization, tls.CreateTrustCheck(), TimeProvider.System);
        var (principal, why) = Authenticate(authenticator, revoked);
        Assert.Null(principal);
        Assert.Contains("CN=mallory", why, StringComparison.Ordinal);
        Assert.Contains("is not trusted", why, StringComparison.Ordinal);
        Assert.Equal(OperatorRole.Operator, Authenticate(authenticator, good).Principal?.Role);

        // With the check off (air-gapped fleets), the CRL plays no part.
        Assert.Null(new ClusterTlsOptions { Enabled = true, CertificateAuthorityPath = ca.AuthorityPath, CheckRevocation = false }.CreateTrustCheck()(revoked));
    }

    private static (CallerPrincipal? Principal, string? Refusal) Authenticate(CallerAuthenticator authenticator, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        const string target = "scheduler/default", interfaceName = "Cluster.Grains.Interfaces.Scheduling.ISchedulerGrain", method = "SetQuota";
        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        byte[] signature = CallCredentials.Sign(certificate, CallCredentials.Payload(target, interfaceName, method, at));
        return authenticator.Authenticate(target, interfaceName, method, certificate.RawData, signature, at);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
