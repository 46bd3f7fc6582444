using Cluster.Client.Connection;
using Microsoft.Extensions.Configuration;

namespace Cluster.Client.Tests;

public sealed class ConnectionOptionsTests
{
    [Fact]
    public void Defaults_are_the_localhost_silo_defaults()
    {
        var options = ClientConnectionOptions.From(new ConfigurationBuilder().Build());

        Assert.Empty(options.Validate());
        Assert.Equal(ClusteringKind.Localhost, options.Clustering);
        Assert.Equal(30000, options.GatewayPort);
        Assert.Equal("dev", options.ClusterId);
        Assert.Contains("127.0.0.1:30000", options.Describe());
    }

    [Fact]
    public void Binds_the_silo_keys_and_the_console_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:GatewayPort"] = "31000",
            ["Orleans:ClusterId"] = "fleet",
            ["Orleans:SiloPort"] = "11112", // a silo-only key in a shared file is simply not the console's business
            ["Orleans:Membership:Provider"] = "redis",
            ["Orleans:Membership:ConnectionString"] = "redis.internal:6379",
            ["Console:ConnectTimeout"] = "00:00:05",
        }).Build();

        var options = ClientConnectionOptions.From(configuration);

        Assert.Empty(options.Validate());
        Assert.Equal(31000, options.GatewayPort);
        Assert.Equal("fleet", options.ClusterId);
        Assert.Equal(ClusteringKind.Redis, options.Clustering);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.Contains("Redis membership table (cluster 'fleet')", options.Describe());
    }

    [Fact]
    public void Reads_the_silos_Tls_section_and_names_each_missing_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tls:Enabled"] = "true",
            ["Tls:CertificatePassword"] = "hunter2-secret",
        }).Build();

        var options = ClientConnectionOptions.From(configuration);

        Assert.True(options.Tls.Enabled);
        var problems = options.Validate();
        Assert.Contains(problems, p => p.StartsWith("Tls:CertificatePath is missing", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Tls:CertificateAuthorityPath and AllowedThumbprints are both empty", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("hunter2-secret", StringComparison.Ordinal));
        Assert.Empty(ClientConnectionOptions.From(new ConfigurationBuilder().Build()).Tls.Validate()); // off by default
    }

    [Fact]
    public void Explicit_gateways_resolve_to_endpoints()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Console:Gateways:0"] = "10.0.0.5:30000",
            ["Console:Gateways:1"] = "[::1]:30001",
        }).Build();

        var options = ClientConnectionOptions.From(configuration);

        Assert.Empty(options.Validate());
        var endpoints = options.ResolveGateways();
        Assert.Equal("10.0.0.5:30000", endpoints[0].ToString());
        Assert.Equal(30001, endpoints[1].Port);
    }

    [Fact]
    public void Every_problem_names_its_setting_and_secrets_stay_out_of_messages()
    {
        var options = new ClientConnectionOptions
        {
            Membership = new ClientMembershipOptions { Provider = "AzureTable" },
            GatewayPort = 0,
            Gateways = ["nohost"],
            ConnectTimeout = TimeSpan.Zero,
        };

        var problems = options.Validate();

        Assert.Contains(problems, p => p.StartsWith("Orleans:GatewayPort is not a TCP port", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--gateway 'nohost'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Orleans:Membership:ConnectionString is missing", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--gateway is for Localhost membership", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Console:ConnectTimeout", StringComparison.Ordinal));
        Assert.Contains(new ClientConnectionOptions { Membership = new() { Provider = "Zookeeper" } }.Validate(),
            p => p.Contains("'Zookeeper' is not a membership provider", StringComparison.Ordinal));

        var redis = new ClientConnectionOptions { Membership = new() { Provider = "Redis", ConnectionString = "secret-host:6379,password=hunter2" } };
        Assert.Empty(redis.Validate());
        Assert.DoesNotContain("hunter2", redis.Describe());
        Assert.DoesNotContain("hunter2", new ClusterUnreachableException(redis, "no gateway answered").Message);
    }
}
