using Cluster.Silo.Configuration;
using Microsoft.Extensions.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>Secrets never reach logs or the console: the effective-configuration dump and error texts mask them.</summary>
public sealed class SecretRedactorTests
{
    private const string Key = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=";
    private const string TableConnection = $"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={Key};EndpointSuffix=core.windows.net";

    private static IConfiguration Configuration(params string[] args) => new ConfigurationBuilder().AddCommandLine(args).Build();

    [Fact]
    public void The_effective_configuration_shows_every_setting_but_no_secret()
    {
        var configuration = Configuration(
            "--Orleans:SiloName=gpu-01",
            "--Orleans:Membership:Provider=AzureTable",
            $"--Orleans:Membership:ConnectionString={TableConnection}",
            "--TrainingCluster:AzureBlob:ConnectionString=UseDevelopmentStorage=true;AccountKey=another-secret-value",
            "--Tls:CertificatePassword=pfx-password-123",
            "--Tls:KeyPath=/etc/cluster/silo.key");
        string dump = new SecretRedactor(configuration).DescribeEffectiveConfiguration();

        Assert.Contains("Orleans:SiloName = gpu-01", dump);
        Assert.Contains("Orleans:Membership:ConnectionString = ****** (secret,", dump);
        Assert.Contains("Tls:KeyPath = /etc/cluster/silo.key", dump); // a path, not a secret
        foreach (string secret in new[] { Key, "another-secret-value", "pfx-password-123" })
            Assert.DoesNotContain(secret, dump);
    }

    [Fact]
    public void Error_texts_lose_configured_secrets_and_connection_string_credentials()
    {
        var redactor = new SecretRedactor(Configuration($"--Orleans:Membership:ConnectionString={TableConnection}", "--Tls:CertificatePassword=pfx-password-123"));
        string text = redactor.Redact($"could not open with pfx-password-123; connection '{TableConnection}'; other: Server=x;Password=hunter2;");
        Assert.DoesNotContain(Key, text);
        Assert.DoesNotContain("pfx-password-123", text);
        Assert.DoesNotContain("hunter2", text);
        Assert.Contains(SecretRedactor.Mask, text);
    }

    [Fact]
    public void An_invalid_configuration_error_does_not_echo_a_secret()
    {
        // A secret in an unknown (misspelt) key must not leak through the "not a setting" message either.
        var configuration = Configuration("--Orleans:Membership:ConectionString=" + TableConnection);
        var error = Assert.Throws<SiloConfigurationException>(() => SiloSettings.Load(configuration));
        Assert.DoesNotContain(Key, new SecretRedactor(configuration).Redact(error.Message));
    }
}
