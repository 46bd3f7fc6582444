using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Cluster.Silo.Tests;

/// <summary>When a silo counts as running in a pod, what it then demands, and what Orleans' Kubernetes hosting sets.</summary>
public sealed class KubernetesHostingTests
{
    private static readonly Dictionary<string, string> s_pod = new(StringComparer.Ordinal)
    {
        ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1",
        ["POD_NAME"] = "cluster-silo-gpu-3",
        ["POD_NAMESPACE"] = "cluster-training",
        ["POD_IP"] = "10.1.2.3",
        ["ORLEANS_CLUSTER_ID"] = "training",
        ["ORLEANS_SERVICE_ID"] = "training",
    };

    // A pod is reachable beyond loopback, so a real one runs with TLS (deploy/kubernetes does); these tests are about
    // naming and addresses and have no certificates, hence AllowInsecure (InsecureExposureTests covers the refusal), and
    // the silos' secret a pod reads from the Secret.
    private static readonly string[] s_podArgs =
        ["--Orleans:Membership:Provider=Redis", "--Orleans:Membership:ConnectionString=127.0.0.1:6379", "--Orleans:ClusterId=training", "--Orleans:ServiceId=training",
         "--Tls:AllowInsecure=true", "--Authorization:SiloSecret=kubernetes-hosting-tests-silo-secret-0123456789"];

    private static SiloSettings Load(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        SiloSettings.Load(new ConfigurationBuilder().AddCommandLine(args).Build(), name => environment.GetValueOrDefault(name));

    [Fact]
    public void Auto_mode_is_on_only_in_a_pod_with_the_pod_variables()
    {
        var options = new KubernetesOptions();
        Assert.True(options.IsEnabled(s_pod.GetValueOrDefault));
        Assert.False(options.IsEnabled(_ => null)); // a VM, a laptop
        Assert.False(options.IsEnabled(name => name == "KUBERNETES_SERVICE_HOST" ? "10.96.0.1" : null)); // a pod without the downward API
        Assert.False(new KubernetesOptions { Mode = "off" }.IsEnabled(s_pod.GetValueOrDefault));
        Assert.True(new KubernetesOptions { Mode = "on" }.IsEnabled(_ => null));
        Assert.True(Load(s_pod, s_podArgs).Kubernetes.IsEnabled(s_pod.GetValueOrDefault));
    }

    [Theory]
    [InlineData("--Kubernetes:Mode=sometimes", "Kubernetes:Mode = 'sometimes': use auto, on or off.")]
    [InlineData("--Kubernetes:MaxAgents=0", "Kubernetes:MaxAgents = 0")]
    [InlineData("--Orleans:Membership:Provider=Localhost", "Kubernetes:Mode: in Kubernetes every pod is its own machine")]
    [InlineData("--Orleans:SiloName=gpu-01", "Kubernetes:Mode: in Kubernetes the silo is named after its pod")]
    [InlineData("--Orleans:ClusterId=other", "Kubernetes:Mode: ORLEANS_CLUSTER_ID = 'training' but Orleans:ClusterId = 'other'")]
    public void In_a_pod_settings_that_cannot_work_are_refused(string arg, string expected)
    {
        var problems = Assert.Throws<SiloConfigurationException>(() => Load(s_pod, [.. s_podArgs, arg])).Problems;
        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Forced_on_without_the_pod_variables_names_the_missing_ones()
    {
        var problems = Assert.Throws<SiloConfigurationException>(() => Load(new Dictionary<string, string>(), [.. s_podArgs, "--Kubernetes:Mode=on"])).Problems;
        Assert.Contains(problems, p => p.Contains("POD_NAME, POD_NAMESPACE, POD_IP, ORLEANS_CLUSTER_ID, ORLEANS_SERVICE_ID", StringComparison.Ordinal));
    }

    [Fact]
    public void In_a_pod_the_silo_is_named_after_the_pod_and_advertises_the_pod_IP()
    {
        // Orleans' Kubernetes hosting reads the process environment itself: set it for this test (the assembly runs serially).
        var saved = s_pod.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (key, value) in s_pod) Environment.SetEnvironmentVariable(key, value);
            var builder = SiloHost.CreateBuilder([.. s_podArgs, "--TrainingCluster:DeviceSlots=1"]);
            var settings = SiloSettings.Load(builder.Configuration);
            using var host = builder.ConfigureSilo(settings).Build(settings); // built, never started: no API server here

            Assert.Equal("cluster-silo-gpu-3", host.Services.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName);
            var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
            Assert.Equal("10.1.2.3", endpoints.AdvertisedIPAddress.ToString());
            Assert.Equal(11111, endpoints.SiloPort);
            Assert.Equal("training", host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId);
        }
        finally
        {
            foreach (var (key, value) in saved) Environment.SetEnvironmentVariable(key, value);
        }
    }
}
