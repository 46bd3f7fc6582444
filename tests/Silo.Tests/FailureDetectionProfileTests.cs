using Cluster.Grains.Hosting;
using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>TrainingCluster:FailureDetection picks the Orleans membership options a silo runs with, and a wrong name is refused.</summary>
public sealed class FailureDetectionProfileTests
{
    private static (int Votes, int Probed, TimeSpan Probe, TimeSpan MinProbe, TimeSpan MaxProbe, int Missed, bool Indirect, bool Extend, bool Liveness, TimeSpan Refresh, TimeSpan IAmAlive, int MissedIAmAlives) Summary(ClusterMembershipOptions o) =>
        (o.NumVotesForDeathDeclaration, o.NumProbedSilos, o.ProbeTimeout, o.MinProbeTimeout, o.MaxProbeTimeout, o.NumMissedProbesLimit,
         o.EnableIndirectProbes, o.ExtendProbeTimeoutDuringDegradation, o.EnableConnectionLivenessCheck, o.TableRefreshTimeout,
         o.IAmAliveTablePublishTimeout, o.NumMissedTableIAmAliveLimit);

    private static ClusterMembershipOptions OfSilo(params string[] args)
    {
        var builder = SiloHost.CreateBuilder(args);
        var settings = SiloSettings.Load(builder.Configuration);
        using var host = builder.ConfigureSilo(settings).Build(settings);
        return host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
    }

    [Fact]
    public void The_fast_profile_declares_a_death_on_one_vote_after_two_missed_one_second_probes()
    {
        var o = new ClusterMembershipOptions();
        FastFailureDetection.Apply(o);
        Assert.Equal((1, TimeSpan.FromSeconds(1), 2, false, false, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), 3),
            (o.NumVotesForDeathDeclaration, o.ProbeTimeout, o.NumMissedProbesLimit, o.EnableConnectionLivenessCheck, o.ExtendProbeTimeoutDuringDegradation, o.TableRefreshTimeout,
             o.IAmAliveTablePublishTimeout, o.NumMissedTableIAmAliveLimit));
    }

    [Fact]
    public void The_fleet_profile_needs_two_votes_from_three_probers_with_indirect_probes_and_tolerant_timeouts()
    {
        var o = new ClusterMembershipOptions();
        FleetFailureDetection.Apply(o);
        Assert.Equal((2, 3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), 3, true, true, true, TimeSpan.FromSeconds(10),
            TimeSpan.FromSeconds(10), 3), Summary(o));
    }

    [Fact]
    public void A_silo_runs_the_fast_profile_by_default_and_the_fleet_profile_when_configured()
    {
        var fast = new ClusterMembershipOptions();
        FastFailureDetection.Apply(fast);
        var fleet = new ClusterMembershipOptions();
        FleetFailureDetection.Apply(fleet);

        Assert.Equal(Summary(fast), Summary(OfSilo()));
        Assert.Equal(Summary(fleet), Summary(OfSilo("--TrainingCluster:FailureDetection=fleet")));
        Assert.Equal(Summary(fleet), Summary(OfSilo("--TrainingCluster:FailureDetection=Fleet")));
        Assert.NotEqual(Summary(fast), Summary(fleet));
    }

    [Fact]
    public void An_unknown_profile_is_refused_naming_the_value_and_the_allowed_ones()
    {
        var problems = Assert.Throws<SiloConfigurationException>(() =>
            SiloSettings.Load(new ConfigurationBuilder().AddCommandLine(["--TrainingCluster:FailureDetection=quick"]).Build())).Problems;
        Assert.Equal(
            "TrainingCluster:FailureDetection = 'quick' is not a failure-detection profile: use 'fast' (one machine: one vote, ≈ 1–2 s) " +
            "or 'fleet' (many machines: two votes, slow silos are not evicted).",
            Assert.Single(problems));
    }

    [Fact]
    public void The_fleet_deployment_example_uses_the_fleet_profile()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Cluster.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no Cluster.sln above the test folder");
        var example = new ConfigurationBuilder().AddJsonFile(Path.Combine(root, "deploy", "appsettings.example.json")).Build();
        Assert.Equal(FailureDetectionProfile.Fleet, example["TrainingCluster:FailureDetection"]);
    }
}
