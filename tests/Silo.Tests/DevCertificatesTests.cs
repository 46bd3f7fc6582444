using System.Diagnostics;
using Cluster.Tls;

namespace Cluster.Silo.Tests;

/// <summary>deploy/make-dev-certs.sh makes a PKI the silo accepts: its settings line validates, the operator chains to the CA.</summary>
public sealed class DevCertificatesTests
{
    [Fact]
    public async Task The_script_issues_certificates_the_silo_and_its_peers_accept()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"dev-certs-{Guid.NewGuid():N}");
        try
        {
            string script = Path.Combine(KubernetesManifests.RepositoryRoot(), "deploy", "make-dev-certs.sh");
            using var process = Process.Start(new ProcessStartInfo("bash", [script, directory, "alice"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, output);

            var silo = new ClusterTlsOptions
            {
                Enabled = true,
                CertificatePath = Path.Combine(directory, "tls.crt"),
                KeyPath = Path.Combine(directory, "tls.key"),
                CertificateAuthorityPath = Path.Combine(directory, "ca.crt"),
            };
            Assert.Empty(silo.Validate());
            var operatorTls = new ClusterTlsOptions
            {
                Enabled = true,
                CertificatePath = Path.Combine(directory, "operator-alice.crt"),
                KeyPath = Path.Combine(directory, "operator-alice.key"),
                CertificateAuthorityPath = Path.Combine(directory, "ca.crt"),
            };
            Assert.Empty(operatorTls.Validate());
            using var operatorCertificate = operatorTls.LoadCertificate();
            var rejections = new List<string>();
            Assert.True(silo.CreatePeerValidator((_, why) => rejections.Add(why))(operatorCertificate, null, System.Net.Security.SslPolicyErrors.None), string.Join("; ", rejections));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
