using System.Globalization;
using System.Text.RegularExpressions;
using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Security;
using Cluster.Silo.Configuration;
using Cluster.Silo.Health;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;
using static Cluster.Silo.Tests.KubernetesManifests;

namespace Cluster.Silo.Tests;

/// <summary>
/// deploy/kubernetes parsed with YamlDotNet and checked against the silo itself: the settings in the pod spec are
/// settings the silo accepts, the probes hit its health paths and port, the grace period covers its drain, the GPU
/// limit matches its device slots, and labels, selectors, RBAC and secrets fit together.
/// </summary>
public sealed class KubernetesManifestTests
{
    private readonly KubernetesManifests _manifests = KubernetesManifests.Load();

    private YamlMappingNode PodSpec => Map(_manifests.Single("StatefulSet"), "spec", "template", "spec");

    private YamlMappingNode Container => (YamlMappingNode)Assert.Single(List(PodSpec, "containers"));

    /// <summary>The container's literal environment (values from fields or secrets are left out).</summary>
    private Dictionary<string, string> LiteralEnvironment => List(Container, "env")
        .Where(e => Text(e, "value") is not null)
        .ToDictionary(e => Text(e, "name")!, e => Text(e, "value")!);

    [Fact]
    public void Kustomization_lists_every_manifest_and_only_existing_ones()
    {
        var kustomization = _manifests.Documents.Single(d => d.File == "kustomization.yaml").Document;
        var resources = List(kustomization, "resources").Select(r => ((YamlScalarNode)r).Value!).ToList();
        var files = Directory.GetFiles(_manifests.Directory, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml");

        Assert.Equal(files.Order(StringComparer.Ordinal), resources.Order(StringComparer.Ordinal));
        Assert.All(_manifests.Documents.Where(d => d.File != "kustomization.yaml"), d => Assert.NotNull(Text(d.Document, "apiVersion")));
    }

    [Fact]
    public void The_pod_settings_are_settings_the_silo_accepts_in_a_pod()
    {
        // Every CLUSTER_ variable as the silo reads it; values from secrets become placeholders, pod fields their values.
        var labels = Labels(_manifests.Single("StatefulSet"), "spec", "template", "metadata", "labels");
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" };
        foreach (var variable in List(Container, "env"))
        {
            string name = Text(variable, "name")!;
            string value = Text(variable, "value")
                ?? (Text(variable, "valueFrom", "fieldRef", "fieldPath") is { } field ? FieldValue(field, labels) : null)
                ?? (Text(variable, "valueFrom", "secretKeyRef", "key") is { } key ? $"secret-{key}-stands-in-for-the-secret's-value" : throw new Xunit.Sdk.XunitException($"{name} has no value"));
            environment[name] = value;
            if (name.StartsWith("CLUSTER_", StringComparison.Ordinal)) settings[name["CLUSTER_".Length..].Replace("__", ":", StringComparison.Ordinal)] = value;
        }
        // Variables from ConfigMaps (envFrom) come first: the container's own env entries win, as in Kubernetes.
        foreach (var (name, value) in ConfigMapEnvironment())
        {
            if (name.StartsWith("CLUSTER_", StringComparison.Ordinal))
                settings.TryAdd(name["CLUSTER_".Length..].Replace("__", ":", StringComparison.Ordinal), value);
        }
        // Files mounted from Secrets (the TLS material) stand in as test certificates under the same file names.
        using var mounted = new TempMount();
        foreach (var mount in List(Container, "volumeMounts").Where(m => SecretVolumes.ContainsKey(Text(m, "name")!)))
        {
            string mountPath = Text(mount, "mountPath")!;
            foreach (var key in settings.Keys.ToList())
            {
                if (settings[key] is { } value && value.StartsWith(mountPath + "/", StringComparison.Ordinal))
                    settings[key] = Path.Combine(mounted.Directory, value[(mountPath.Length + 1)..]);
            }
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var loaded = SiloSettings.Load(configuration, name => environment.GetValueOrDefault(name)); // throws listing every problem

        Assert.True(loaded.Tls.Enabled, "a pod is reachable beyond loopback: its silo must run with TLS");
        // With TLS on, an empty certificate map refuses every console: the manifests map an admin at least, and the
        // silos stamp their calls to each other with the shared secret.
        Assert.Contains(loaded.Authorization.Principals, p => p.Role == "admin");
        Assert.NotNull(loaded.Authorization.SiloSecret);

        Assert.True(loaded.Kubernetes.IsEnabled(name => environment.GetValueOrDefault(name)), "Kubernetes hosting is not on in the pod");
        Assert.Equal(labels["orleans/clusterId"], loaded.Host.ClusterId);
        Assert.Equal(labels["orleans/serviceId"], loaded.Host.ServiceId);
    }

    [Fact]
    public void The_grace_period_covers_the_drain_and_leaving_the_cluster()
    {
        var drain = LiteralEnvironment.TryGetValue("CLUSTER_Shutdown__DrainTimeout", out string? configured)
            ? TimeSpan.Parse(configured, CultureInfo.InvariantCulture)
            : new ShutdownOptions().DrainTimeout;
        int grace = int.Parse(Text(PodSpec, "terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture);

        Assert.True(grace >= (drain + TimeSpan.FromSeconds(30)).TotalSeconds,
            $"terminationGracePeriodSeconds = {grace} s is shorter than Shutdown:DrainTimeout ({drain.TotalSeconds} s) + 30 s: a rolling update would kill draining silos");
    }

    [Theory]
    [InlineData("startupProbe", HealthProbes.StartupPath)]
    [InlineData("readinessProbe", HealthProbes.ReadyPath)]
    [InlineData("livenessProbe", HealthProbes.LivePath)]
    public void Each_probe_asks_the_silos_health_path_on_its_health_port(string probe, string path)
    {
        Assert.Equal(path, Text(Container, probe, "httpGet", "path"));
        string port = Text(Container, probe, "httpGet", "port")!;
        int number = int.TryParse(port, CultureInfo.InvariantCulture, out int n) ? n : ContainerPort(port);
        Assert.Equal(int.Parse(LiteralEnvironment["CLUSTER_Observability__HealthPort"], CultureInfo.InvariantCulture), number);
        Assert.True(LiteralEnvironment["CLUSTER_Observability__HealthHost"] is "+" or "0.0.0.0" or "*", "the probes must listen on the pod IP, not on localhost");
        // A probe must not give up before the silo's own check timeout.
        int timeout = int.Parse(Text(Container, probe, "timeoutSeconds") ?? "1", CultureInfo.InvariantCulture);
        Assert.True(timeout > new ObservabilityOptions().HealthCheckTimeout.TotalSeconds, $"{probe}.timeoutSeconds = {timeout} s is not above Observability:HealthCheckTimeout");
    }

    [Fact]
    public void The_liveness_probe_never_restarts_a_silo_before_a_device_counts_as_stuck_or_before_start_up_ends()
    {
        Assert.NotNull(Get(Container, "startupProbe")); // liveness only starts counting once start-up has passed
        int period = int.Parse(Text(Container, "livenessProbe", "periodSeconds")!, CultureInfo.InvariantCulture);
        int failures = int.Parse(Text(Container, "livenessProbe", "failureThreshold")!, CultureInfo.InvariantCulture);
        Assert.True(period * failures >= 60, "liveness restarts a silo after less than a minute of failures");
    }

    [Fact]
    public void Every_silo_gets_GPUs_and_exposes_one_device_slot_per_GPU()
    {
        var limit = Text(Container, "resources", "limits", "nvidia.com/gpu");
        Assert.True(int.TryParse(limit, CultureInfo.InvariantCulture, out int gpus) && gpus > 0, $"nvidia.com/gpu limit '{limit}' is not a positive count");
        if (LiteralEnvironment.TryGetValue("CLUSTER_TrainingCluster__DeviceSlots", out string? slots) && slots != "0")
            Assert.Equal(gpus, int.Parse(slots, CultureInfo.InvariantCulture));
        Assert.Contains(List(PodSpec, "tolerations"), t => Text(t, "key") == "nvidia.com/gpu");
    }

    [Fact]
    public void Selectors_match_the_pod_labels_and_the_pod_carries_the_orleans_labels()
    {
        var statefulSet = _manifests.Single("StatefulSet");
        var podLabels = Labels(statefulSet, "spec", "template", "metadata", "labels");
        Assert.Contains("orleans/serviceId", podLabels.Keys);
        Assert.Contains("orleans/clusterId", podLabels.Keys);
        AssertSelects(Labels(statefulSet, "spec", "selector", "matchLabels"), podLabels, "the StatefulSet");
        AssertSelects(Labels(_manifests.Single("PodDisruptionBudget"), "spec", "selector", "matchLabels"), podLabels, "the PodDisruptionBudget");
        foreach (var service in _manifests.OfKind("Service"))
        {
            AssertSelects(Labels(service, "spec", "selector"), podLabels, $"Service {Text(service, "metadata", "name")}");
            foreach (var port in List(service, "spec", "ports"))
                ContainerPort(Text(port, "targetPort")!); // every target port is a port the container declares
        }
        Assert.Equal(Text(statefulSet, "spec", "serviceName"), Text(_manifests.OfKind("Service").First(s => Text(s, "spec", "clusterIP") == "None"), "metadata", "name"));
        // The gateway Service reaches the silo's gateway port.
        var gateway = _manifests.OfKind("Service").Single(s => List(s, "spec", "ports").Any(p => Text(p, "targetPort") == "gateway"));
        Assert.Equal(new SiloHostOptions().GatewayPort, ContainerPort("gateway"));
        Assert.NotNull(gateway);
    }

    [Fact]
    public void The_pod_runs_as_its_service_account_whose_role_lets_it_watch_pods()
    {
        string account = Text(PodSpec, "serviceAccountName")!;
        Assert.Contains(_manifests.OfKind("ServiceAccount"), a => Text(a, "metadata", "name") == account);
        var binding = _manifests.Single("RoleBinding");
        Assert.Contains(List(binding, "subjects"), s => Text(s, "kind") == "ServiceAccount" && Text(s, "name") == account);
        var role = _manifests.OfKind("Role").Single(r => Text(r, "metadata", "name") == Text(binding, "roleRef", "name"));
        var podRule = List(role, "rules").Single(r => List(r, "resources").Any(x => ((YamlScalarNode)x).Value == "pods"));
        var verbs = List(podRule, "verbs").Select(v => ((YamlScalarNode)v).Value).ToHashSet();
        Assert.Superset(new HashSet<string?> { "get", "list", "watch" }, verbs);
    }

    [Fact]
    public void Secrets_come_from_the_Secret_and_no_secret_is_a_literal()
    {
        var secrets = _manifests.OfKind("Secret").ToDictionary(s => Text(s, "metadata", "name")!, s => Labels(s, "stringData"));
        foreach (var variable in List(Container, "env"))
        {
            string name = Text(variable, "name")!;
            if (Text(variable, "valueFrom", "secretKeyRef", "name") is { } secretName)
            {
                Assert.True(secrets.TryGetValue(secretName, out var keys), $"{name} reads Secret '{secretName}', which no manifest defines");
                Assert.Contains(Text(variable, "valueFrom", "secretKeyRef", "key")!, keys.Keys);
            }
            else if (name.StartsWith("CLUSTER_", StringComparison.Ordinal))
            {
                Assert.False(SecretRedactor.IsSecretKey(name["CLUSTER_".Length..].Replace("__", ":", StringComparison.Ordinal)), $"{name} is a secret but set as a literal");
            }
        }
        // Files mounted from a Secret: the Secret exists and holds every file the settings name under the mount.
        foreach (var mount in List(Container, "volumeMounts").Where(m => SecretVolumes.ContainsKey(Text(m, "name")!)))
        {
            string mountPath = Text(mount, "mountPath")!;
            Assert.True(secrets.TryGetValue(SecretVolumes[Text(mount, "name")!], out var files), $"volume '{Text(mount, "name")}' mounts a Secret no manifest defines");
            foreach (string value in LiteralEnvironment.Values.Where(v => v.StartsWith(mountPath + "/", StringComparison.Ordinal)))
                Assert.Contains(value[(mountPath.Length + 1)..], files.Keys);
        }
        Assert.All(secrets.Values.SelectMany(k => k.Values), v => Assert.StartsWith("REPLACE-ME", v, StringComparison.Ordinal)); // placeholders only in the repository
    }

    [Fact]
    public void The_certificate_map_comes_from_a_ConfigMap_the_pod_reads_and_every_entry_is_valid()
    {
        var references = List(Container, "envFrom").Select(e => Text(e, "configMapRef", "name")).OfType<string>().ToList();
        Assert.Contains("cluster-silo-authorization", references);
        var map = ConfigMapEnvironment().Where(kv => kv.Key.StartsWith("CLUSTER_Authorization__", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["CLUSTER_".Length..].Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value);
        Assert.NotEmpty(map);

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(map).Build();
        var authorization = new ClientAuthorizationOptions();
        configuration.GetSection(ClientAuthorizationOptions.Section).Bind(authorization);
        Assert.Empty(authorization.Validate());
        // Indexes are consecutive from 0, so binding saw every entry the ConfigMap lists.
        int entries = map.Keys.Select(k => k.Split(':')).Where(p => p.Length >= 3 && p[1] == "Principals").Select(p => p[2]).Distinct().Count();
        Assert.Equal(entries, authorization.Principals.Count);
        Assert.Equal(OperatorRole.Admin, authorization.Find("CN=cluster-admin", "", "")!.Role);
        Assert.Equal(["research"], authorization.Find("CN=alice", "", "")!.Teams);
        Assert.Equal(OperatorRole.Viewer, authorization.Find("CN=ci-bot", "", "")!.Role);
    }

    /// <summary>The variables the container takes from ConfigMaps (envFrom configMapRef), each ConfigMap defined by a manifest.</summary>
    private IEnumerable<KeyValuePair<string, string>> ConfigMapEnvironment()
    {
        var configMaps = _manifests.OfKind("ConfigMap").ToDictionary(c => Text(c, "metadata", "name")!, c => Labels(c, "data"));
        foreach (string name in List(Container, "envFrom").Select(e => Text(e, "configMapRef", "name")).OfType<string>())
        {
            Assert.True(configMaps.TryGetValue(name, out var data), $"the pod reads ConfigMap '{name}', which no manifest defines");
            foreach (var entry in data) yield return entry;
        }
    }

    /// <summary>The pod's volumes that come from a Secret: volume name → Secret name.</summary>
    private Dictionary<string, string> SecretVolumes => List(PodSpec, "volumes")
        .Where(v => Text(v, "secret", "secretName") is not null)
        .ToDictionary(v => Text(v, "name")!, v => Text(v, "secret", "secretName")!);

    /// <summary>A folder with a test CA (ca.crt) and a certificate it issued (tls.crt, tls.key), as a TLS Secret mounts them.</summary>
    private sealed class TempMount : IDisposable
    {
        private readonly TestCertificates _certificates;

        public TempMount()
        {
            Directory = Path.Combine(Path.GetTempPath(), $"k8s-mount-{Guid.NewGuid():N}");
            _certificates = new TestCertificates(Directory);
            _certificates.IssuePem("tls");
        }

        public string Directory { get; }

        public void Dispose()
        {
            _certificates.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    [Fact]
    public void The_container_runs_as_a_non_root_user()
    {
        Assert.Equal("true", Text(PodSpec, "securityContext", "runAsNonRoot"));
        Assert.NotEqual("0", Text(PodSpec, "securityContext", "runAsUser"));
        Assert.Equal("false", Text(Container, "securityContext", "allowPrivilegeEscalation"));
        foreach (string dockerfile in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            string text = File.ReadAllText(Path.Combine(_manifests.Directory, "..", "docker", dockerfile));
            Assert.Matches(new Regex(@"^USER (\$APP_UID|1654)\s*$", RegexOptions.Multiline), text);
            Assert.Contains("dotnet publish Silo -c Release", text, StringComparison.Ordinal);
        }
    }

    private int ContainerPort(string name)
    {
        var port = List(Container, "ports").SingleOrDefault(p => Text(p, "name") == name)
            ?? throw new Xunit.Sdk.XunitException($"the container declares no port named '{name}'");
        return int.Parse(Text(port, "containerPort")!, CultureInfo.InvariantCulture);
    }

    private static string FieldValue(string fieldPath, IReadOnlyDictionary<string, string> labels) => fieldPath switch
    {
        "metadata.name" => "cluster-silo-gpu-0",
        "metadata.namespace" => "cluster-training",
        "status.podIP" => "10.1.2.3",
        _ when Regex.Match(fieldPath, @"^metadata\.labels\['(?<label>[^']+)'\]$") is { Success: true } m => labels[m.Groups["label"].Value],
        _ => throw new Xunit.Sdk.XunitException($"unexpected fieldRef '{fieldPath}'"),
    };

    private static void AssertSelects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels, string what)
    {
        Assert.NotEmpty(selector);
        foreach (var (key, value) in selector)
            Assert.True(labels.TryGetValue(key, out string? actual) && actual == value, $"{what} selects {key}={value}, which the pods do not carry");
    }
}
