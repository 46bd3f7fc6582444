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
        Assert.Null(options.ClusterId); // Orleans' default, as a silo started without one
        Assert.Contains("cluster 'default'", options.Describe());
        Assert.Contains("127.0.0.1:30000", options.Describe());
    }

    [Fact]
    public void Binds_the_silo_section_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:GatewayPort"] = "31000",
            ["Orleans:ClusterId"] = "fleet",
            ["Orleans:Gateways:0"] = "10.0.0.5:30000",
            ["Orleans:Gateways:1"] = "[::1]:30001",
            ["Orleans:ConnectTimeout"] = "00:00:05",
        }).Build();

        var options = ClientConnectionOptions.From(configuration);

        Assert.Empty(options.Validate());
        Assert.Equal(31000, options.GatewayPort);
        Assert.Equal("fleet", options.ClusterId);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        var endpoints = options.ResolveGateways();
        Assert.Equal("10.0.0.5:30000", endpoints[0].ToString());
        Assert.Equal(30001, endpoints[1].Port);
    }

    [Fact]
    public void Every_problem_names_its_setting_and_secrets_stay_out_of_messages()
    {
        var options = new ClientConnectionOptions
        {
            Clustering = ClusteringKind.AzureTable,
            GatewayPort = 0,
            Gateways = ["nohost"],
            ConnectTimeout = TimeSpan.Zero,
        };

        var problems = options.Validate();

        Assert.Contains(problems, p => p.StartsWith("Orleans:GatewayPort is 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--gateway 'nohost'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Orleans:AzureTableConnectionString is missing", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Orleans:ConnectTimeout", StringComparison.Ordinal));

        var redis = new ClientConnectionOptions { Clustering = ClusteringKind.Redis, RedisConnectionString = "secret-host:6379,password=hunter2" };
        Assert.Empty(redis.Validate());
        Assert.DoesNotContain("hunter2", redis.Describe());
        Assert.DoesNotContain("hunter2", new ClusterUnreachableException(redis, "no gateway answered").Message);
    }
}
