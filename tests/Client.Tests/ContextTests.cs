using Cluster.Client.Connection;
using Microsoft.Extensions.Configuration;

namespace Cluster.Client.Tests;

/// <summary>Named clusters in the clusterctl config file: config commands, and how --context, the current context, configuration and flags combine.</summary>
public sealed class ContextTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Set_use_and_list_contexts_in_the_config_file()
    {
        string path = _folder.File("clusterctl/config.json");
        await using var harness = new ConsoleHarness(_ => throw new InvalidOperationException("config commands never connect"), configPath: path);

        var (pfx, ca) = WriteCertificate("hunter2");
        var missing = await harness.RunAsync("config", "set-context", "prod", "--gateway", "gpu-01:30000", "--tls-certificate", "/nowhere/me.pfx", "--tls-ca", ca);
        Assert.Equal(ExitCodes.Usage, missing.ExitCode); // checked as a connection would be, before it is saved
        Assert.Contains("'/nowhere/me.pfx': no such file", missing.Error);
        Assert.False(File.Exists(path));

        var created = await harness.RunAsync("config", "set-context", "prod", "--gateway", "gpu-01:30000", "--gateway", "gpu-02:30000", "--cluster-id", "fleet",
            "--membership-provider", "Localhost", "--tls-certificate", pfx, "--tls-certificate-password", "hunter2", "--tls-ca", ca);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path)); // it holds secrets
        Assert.True((await harness.RunAsync("config", "set-context", "dev", "--gateway-port", "30001")).ExitCode == 0);

        var listed = await harness.RunAsync("config", "get-contexts", "-o", "json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var contexts = listed.Json().EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.True(contexts["prod"].GetProperty("current").GetBoolean()); // the first one defined becomes current
        Assert.False(contexts["dev"].GetProperty("current").GetBoolean());
        Assert.Equal("gpu-01:30000,gpu-02:30000", contexts["prod"].GetProperty("server").GetString());
        Assert.True(contexts["prod"].GetProperty("tls").GetBoolean());
        Assert.DoesNotContain("hunter2", listed.Raw, StringComparison.Ordinal);

        Assert.True((await harness.RunAsync("config", "use-context", "dev")).ExitCode == 0);
        var current = await harness.RunAsync("config", "current-context", "-o", "name");
        Assert.Equal("dev", current.Raw.Trim().Split('\n')[^1]);

        var table = await harness.RunAsync("config", "get-contexts");
        Assert.Contains("127.0.0.1:30001", table.Out);
        Assert.Matches(@"\*\s+│\s+dev", table.Out);

        var typo = await harness.RunAsync("config", "use-context", "prd");
        Assert.Equal(ExitCodes.Usage, typo.ExitCode);
        Assert.Contains("Did you mean 'prod'", typo.Error);

        var bad = await harness.RunAsync("config", "set-context", "broken", "--gateway", "no-port");
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("'no-port' is not host:port", bad.Error);

        Assert.True((await harness.RunAsync("config", "delete-context", "dev")).ExitCode == 0);
        Assert.Equal(ExitCodes.NotFound, (await harness.RunAsync("config", "current-context")).ExitCode);
    }

    [Fact]
    public async Task Configuration_then_context_then_flags_each_win_for_what_they_set()
    {
        string path = _folder.File("config.json");
        ClientConnectionOptions? used = null;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:ServiceId"] = "from-appsettings",
            ["Orleans:ClusterId"] = "from-appsettings",
        }).Build();
        IClusterConnector Capture(ClientConnectionOptions options)
        {
            used = options;
            throw new InvalidOperationException("captured");
        }

        // No config file: appsettings and CLUSTER_ variables alone, as before.
        await using (var plain = new ConsoleHarness(Capture, configuration, path))
        {
            await plain.RunAsync("status");
            Assert.Equal("from-appsettings", used!.ClusterId);
            Assert.Equal(30000, used.GatewayPort);
        }

        await using (var setup = new ConsoleHarness(Capture, configuration, path))
        {
            await setup.RunAsync("config", "set-context", "a", "--gateway-port", "31001", "--cluster-id", "cluster-a");
            await setup.RunAsync("config", "set-context", "b", "--gateway", "10.1.2.3:30000", "--connect-timeout", "3");
        }

        await using (var current = new ConsoleHarness(Capture, configuration, path))
        {
            await current.RunAsync("status");
            Assert.Equal(31001, used!.GatewayPort);
            Assert.Equal("cluster-a", used.ClusterId);
            Assert.Equal("from-appsettings", used.ServiceId); // not set by the context: configuration's
        }

        await using (var chosen = new ConsoleHarness(Capture, configuration, path))
        {
            await chosen.RunAsync("status", "--context", "b", "--cluster-id", "from-flag");
            Assert.Equal(["10.1.2.3:30000"], used!.Gateways);
            Assert.Equal(TimeSpan.FromSeconds(3), used.ConnectTimeout);
            Assert.Equal("from-flag", used.ClusterId);
        }

        await using var unknown = new ConsoleHarness(Capture, configuration, path);
        var result = await unknown.RunAsync("status", "--context", "c", "--json");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("no context 'c'", result.Error);
        Assert.Equal("usage", result.Json().GetProperty("error").GetProperty("kind").GetString());
    }

    /// <summary>A self-signed certificate as a password-protected .pfx, and the same certificate as the CA's PEM.</summary>
    private (string Pfx, string Ca) WriteCertificate(string password)
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=clusterctl-test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        string pfx = _folder.File("me.pfx"), ca = _folder.File("ca.pem");
        File.WriteAllBytes(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, password));
        File.WriteAllText(ca, certificate.ExportCertificatePem());
        return (pfx, ca);
    }

    public void Dispose() => _folder.Dispose();
}
