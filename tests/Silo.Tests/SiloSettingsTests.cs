using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace Cluster.Silo.Tests;

/// <summary>Configuration is bound and validated without starting a host; every problem names its key.</summary>
public sealed class SiloSettingsTests
{
    private static SiloSettings Load(params string[] args) => SiloSettings.Load(new ConfigurationBuilder().AddCommandLine(args).Build());

    private static IReadOnlyList<string> Problems(params string[] args) =>
        Assert.Throws<SiloConfigurationException>(() => Load(args)).Problems;

    [Fact]
    public void Defaults_are_a_localhost_silo_with_file_system_storage()
    {
        var settings = Load();
        Assert.Equal(MembershipOptions.Localhost, settings.Host.Membership.NormalizedProvider);
        Assert.Equal((11111, 30000), (settings.Host.SiloPort, settings.Host.GatewayPort));
        Assert.Equal("filesystem", settings.Training.CheckpointStore);
        Assert.False(settings.Tls.Enabled);
    }

    [Fact]
    public void The_keys_used_before_fleet_mode_keep_their_meaning()
    {
        var settings = Load("--Orleans:SiloName=s1", "--Orleans:SiloPort=20001", "--Orleans:GatewayPort=20002", "--Orleans:PrimarySiloPort=20000",
            "--TrainingCluster:DeviceSlots=2", "--TrainingCluster:DataRoot=/tmp/x");
        Assert.Equal(("s1", 20001, 20002, 20000), (settings.Host.SiloName, settings.Host.SiloPort, settings.Host.GatewayPort, settings.Host.PrimarySiloPort));
        Assert.Equal((2, "/tmp/x"), (settings.Training.DeviceSlots, settings.Training.DataRoot));
    }

    [Fact]
    public void A_value_that_does_not_parse_names_its_key_and_an_example()
    {
        var problem = Assert.Single(Problems("--Orleans:SiloPort=eleven"));
        Assert.Equal("Orleans:SiloPort = 'eleven' does not parse: give a whole number such as 2.", problem);
    }

    [Fact]
    public void A_misspelt_key_is_refused_with_a_suggestion()
    {
        var problem = Assert.Single(Problems("--Orleans:SiloPrt=11112"));
        Assert.Equal("Orleans:SiloPrt is not a setting: did you mean Orleans:SiloPort?", problem);
        Assert.Contains("TrainingCluster:DeviceSlot is not a setting: did you mean TrainingCluster:DeviceSlots?", Problems("--TrainingCluster:DeviceSlot=1"));
    }

    [Fact]
    public void Keys_orleans_reads_itself_are_not_unknown() =>
        Load("--Orleans:Messaging:ResponseTimeout=00:00:30", "--Orleans:Endpoints:SiloPort=11111");

    [Theory]
    [InlineData("--Orleans:SiloPort=70000", "Orleans:SiloPort = 70000 is not a TCP port")]
    [InlineData("--Orleans:GatewayPort=11111", "Orleans:GatewayPort = 11111 equals SiloPort")]
    [InlineData("--Orleans:Membership:Provider=Zookeeper", "Orleans:Membership:Provider = 'Zookeeper' is not a membership provider: use Localhost")]
    [InlineData("--Orleans:Membership:Provider=AzureTable", "Orleans:Membership:ConnectionString is missing")]
    [InlineData("--Orleans:Membership:Provider=Redis", "Orleans:Membership:ConnectionString is missing: Redis membership needs the server")]
    [InlineData("--Orleans:AdvertisedIPAddress=gpu-01", "Orleans:AdvertisedIPAddress = 'gpu-01' is not an IP address")]
    [InlineData("--Orleans:SiloName=rack/gpu", "Orleans:SiloName = 'rack/gpu' contains '/'")]
    [InlineData("--TrainingCluster:CheckpointStore=gcs", "TrainingCluster:CheckpointStore = 'gcs': use 'filesystem', 'azureblob' or 's3'")]
    [InlineData("--Observability:HealthPort=70000", "Observability:HealthPort = 70000")]
    [InlineData("--Observability:DeviceStallTimeout=00:00:00", "Observability:DeviceStallTimeout = 00:00:00 must be positive")]
    [InlineData("--TrainingCluster:CheckpointStore=azureblob", "TrainingCluster:AzureBlob:")]
    [InlineData("--Tls:Enabled=true", "Tls:CertificatePath is missing")]
    [InlineData("--Shutdown:DrainTimeout=-00:00:01", "Shutdown:DrainTimeout = -00:00:01 must be positive")]
    [InlineData("--Observability:PrometheusPort=-1", "Observability:PrometheusPort = -1")]
    public void Invalid_values_are_refused_naming_the_key(string argument, string expected) =>
        Assert.Contains(Problems(argument), p => p.StartsWith(expected, StringComparison.Ordinal));

    [Fact]
    public void The_primary_silo_port_only_goes_with_localhost_membership() =>
        Assert.Contains(Problems("--Orleans:Membership:Provider=Redis", "--Orleans:Membership:ConnectionString=r:6379", "--Orleans:PrimarySiloPort=11111"),
            p => p.StartsWith("Orleans:PrimarySiloPort only applies to Localhost membership", StringComparison.Ordinal));

    [Fact]
    public void Every_problem_is_reported_at_once() =>
        Assert.Equal(3, Problems("--Orleans:SiloPort=0", "--Orleans:Membership:Provider=Redis", "--Observability:PrometheusPort=70000").Count);

    [Fact]
    public void The_command_line_overrides_cluster_environment_variables_which_override_appsettings()
    {
        string variable = "CLUSTER_Orleans__SiloName";
        Environment.SetEnvironmentVariable(variable, "from-environment");
        try
        {
            Assert.Equal("from-environment", SiloSettings.Load(SiloHost.CreateBuilder([]).Configuration).Host.SiloName);
            Assert.Equal("from-command-line", SiloSettings.Load(SiloHost.CreateBuilder(["--Orleans:SiloName=from-command-line"]).Configuration).Host.SiloName);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void A_silo_reads_its_settings_files_once_and_watches_none()
    {
        var json = ((IConfigurationBuilder)SiloHost.CreateBuilder([]).Configuration).Sources.OfType<JsonConfigurationSource>().ToList();
        Assert.NotEmpty(json); // appsettings.json is still read
        Assert.All(json, source => Assert.False(source.ReloadOnChange, $"{source.Path} is watched for changes"));
    }

    [Fact]
    public void The_example_settings_in_deploy_are_valid()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Cluster.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no Cluster.sln above the test folder");
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(root, "deploy", "appsettings.example.json"))
            // What a machine adds: the secrets from its environment file; TLS files exist only there.
            // With TLS off, the example's routable address needs the explicit opt-out a real machine never sets.
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Orleans:Membership:ConnectionString"] = "UseDevelopmentStorage=true", ["Authorization:SiloSecret"] = new string('x', 64),
                ["Tls:Enabled"] = "false", ["Tls:AllowInsecure"] = "true",
            })
            .Build();
        var settings = SiloSettings.Load(configuration);
        Assert.Equal((MembershipOptions.AzureTable, "azureblob"), (settings.Host.Membership.NormalizedProvider, settings.Training.CheckpointStore));
    }
}
