using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;
using Cluster.Tls;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Silo.Tests;

/// <summary>
/// A silo reachable beyond loopback refuses to start without TLS unless Tls:AllowInsecure is set, and without a silo
/// secret unless Authorization:AllowUnstampedSiloCalls is set; with either opt-out it warns on every start.
/// </summary>
public sealed class InsecureExposureTests
{
    private static readonly string[] s_redis = ["--Orleans:Membership:Provider=Redis", "--Orleans:Membership:ConnectionString=redis:6379"];

    private static readonly string s_secret = $"--Authorization:SiloSecret={new string('s', 48)}";

    private static SiloSettings Load(params string[] args) => SiloSettings.Load(new ConfigurationBuilder().AddCommandLine([.. s_redis, .. args]).Build());

    [Theory]
    [InlineData("--Orleans:AdvertisedIPAddress=10.0.0.5", "AdvertisedIPAddress = 10.0.0.5")]
    [InlineData("--Orleans:ListenOnAnyHostAddress=true", "every interface")]
    [InlineData("--Orleans:SiloName=gpu-01", "host name's first address")]
    public void A_silo_reachable_beyond_loopback_without_tls_refuses_to_start(string arg, string expected)
    {
        var problem = Assert.Single(Assert.Throws<SiloConfigurationException>(() => Load(arg, s_secret)).Problems);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.Contains("Tls:AllowInsecure=true", problem, StringComparison.Ordinal);
        Assert.StartsWith("Tls:Enabled is false", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Orleans:AdvertisedIPAddress=10.0.0.5", "AdvertisedIPAddress = 10.0.0.5")]
    [InlineData("--Orleans:ListenOnAnyHostAddress=true", "every interface")]
    [InlineData("--Orleans:SiloName=gpu-01", "host name's first address")]
    public void A_silo_reachable_beyond_loopback_without_a_silo_secret_refuses_to_start(string arg, string expected)
    {
        var problem = Assert.Single(Assert.Throws<SiloConfigurationException>(() => Load(arg, "--Tls:AllowInsecure=true")).Problems);
        Assert.StartsWith("Authorization:SiloSecret is not set", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.Contains("at least 32 characters on every silo", problem, StringComparison.Ordinal);
        Assert.Contains("Authorization:AllowUnstampedSiloCalls=true", problem, StringComparison.Ordinal);

        // Neither TLS nor a secret: both problems, each with its fix.
        var both = Assert.Throws<SiloConfigurationException>(() => Load(arg)).Problems;
        Assert.Equal(2, both.Count);
        Assert.Contains(both, p => p.StartsWith("Tls:Enabled is false", StringComparison.Ordinal));
        Assert.Contains(both, p => p.StartsWith("Authorization:SiloSecret is not set", StringComparison.Ordinal));

        // A secret too short is its own problem, not a way around the rule.
        Assert.Contains(Assert.Throws<SiloConfigurationException>(() => Load(arg, "--Tls:AllowInsecure=true", "--Authorization:SiloSecret=short")).Problems,
            p => p.StartsWith("Authorization:SiloSecret has 5 characters", StringComparison.Ordinal));
    }

    [Fact]
    public void Loopback_silos_and_explicit_opt_outs_start()
    {
        Load("--Orleans:AdvertisedIPAddress=127.0.0.1");
        Load("--Orleans:AdvertisedIPAddress=::1");
        SiloSettings.Load(new ConfigurationBuilder().Build()); // localhost membership binds loopback
        Assert.True(Load("--Orleans:AdvertisedIPAddress=10.0.0.5", "--Tls:AllowInsecure=true", s_secret).Tls.AllowInsecure);
        Assert.True(Load("--Orleans:AdvertisedIPAddress=10.0.0.5", "--Tls:AllowInsecure=true", "--Authorization:AllowUnstampedSiloCalls=true")
            .Authorization.AllowUnstampedSiloCalls);
    }

    [Fact]
    public async Task Allow_insecure_warns_on_every_start_and_a_loopback_silo_does_not()
    {
        var exposed = Load("--Orleans:AdvertisedIPAddress=10.0.0.5", "--Tls:AllowInsecure=true", s_secret);
        var logger = new ListLogger();
        await new InsecureStartWarning(exposed.Host, exposed.Tls, logger).StartAsync(CancellationToken.None);
        await new InsecureStartWarning(exposed.Host, exposed.Tls, logger).StartAsync(CancellationToken.None);
        Assert.Equal(2, logger.Warnings.Count);
        Assert.All(logger.Warnings, w => Assert.Contains("INSECURE", w, StringComparison.Ordinal));

        var local = Load("--Orleans:AdvertisedIPAddress=127.0.0.1", "--Tls:AllowInsecure=true");
        var quiet = new ListLogger();
        await new InsecureStartWarning(local.Host, local.Tls, quiet).StartAsync(CancellationToken.None);
        Assert.Empty(quiet.Warnings);
        Assert.Null(NetworkExposure.Problem(local.Host, new ClusterTlsOptions()));
    }

    [Fact]
    public async Task An_exposed_silo_allowed_to_run_without_a_silo_secret_warns_on_every_start_and_one_with_it_does_not()
    {
        var exposed = Load("--Orleans:AdvertisedIPAddress=10.0.0.5", "--Tls:AllowInsecure=true", "--Authorization:AllowUnstampedSiloCalls=true");
        var logger = new ListLogger();
        await new InsecureStartWarning(exposed.Host, exposed.Tls, logger, exposed.Authorization).StartAsync(CancellationToken.None);
        await new InsecureStartWarning(exposed.Host, exposed.Tls, logger, exposed.Authorization).StartAsync(CancellationToken.None);
        Assert.Equal(2, logger.Warnings.Count(w => w.Contains("Authorization:SiloSecret is not set", StringComparison.Ordinal)));

        var stamped = Load("--Orleans:AdvertisedIPAddress=10.0.0.5", "--Tls:AllowInsecure=true", s_secret);
        var quiet = new ListLogger();
        await new InsecureStartWarning(stamped.Host, stamped.Tls, quiet, stamped.Authorization).StartAsync(CancellationToken.None);
        Assert.DoesNotContain(quiet.Warnings, w => w.Contains("SiloSecret", StringComparison.Ordinal));

        var local = Load("--Orleans:AdvertisedIPAddress=127.0.0.1");
        var none = new ListLogger();
        await new InsecureStartWarning(local.Host, local.Tls, none, local.Authorization).StartAsync(CancellationToken.None);
        Assert.Empty(none.Warnings);
    }

    private sealed class ListLogger : ILogger<InsecureStartWarning>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => NullLogger.Instance.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning) Warnings.Add(formatter(state, exception));
        }
    }
}
