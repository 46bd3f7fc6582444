namespace Cluster.Silo.Configuration;

/// <summary>
/// Running in a Kubernetes pod (section <c>Kubernetes</c>): the silo takes its name from the pod, advertises the pod IP,
/// and watches the pods so that silos whose pod is gone are declared dead at once (Orleans' Kubernetes hosting).
/// </summary>
public sealed class KubernetesOptions
{
    public const string Section = "Kubernetes";

    public const string Auto = "auto";
    public const string On = "on";
    public const string Off = "off";

    /// <summary>Variables the pod spec must set (from the downward API) for Kubernetes hosting.</summary>
    public static readonly string[] PodVariables = ["POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_CLUSTER_ID", "ORLEANS_SERVICE_ID"];

    /// <summary>Set by Kubernetes in every container: how a silo knows it runs in a pod.</summary>
    public const string InClusterVariable = "KUBERNETES_SERVICE_HOST";

    /// <summary>"auto" (on when KUBERNETES_SERVICE_HOST and POD_NAME are set), "on" or "off". <value>auto.</value></summary>
    public string Mode { get; set; } = Auto;

    /// <summary>How many silos watch the Kubernetes API for deleted pods (fewer = less load on the API server). <value>2.</value></summary>
    public int MaxAgents { get; set; } = 2;

    /// <summary>Also delete the pod of a silo the cluster declared dead (a hung pod), so its StatefulSet replaces it. Needs the delete verb in the Role. <value>false.</value></summary>
    public bool DeleteDefunctSiloPods { get; set; }

    /// <summary>Whether Kubernetes hosting is on, given the process's environment.</summary>
    public bool IsEnabled(Func<string, string?> environment) => Mode.Trim().ToLowerInvariant() switch
    {
        On => true,
        Off => false,
        _ => !string.IsNullOrEmpty(environment(InClusterVariable)) && !string.IsNullOrEmpty(environment("POD_NAME")),
    };

    /// <summary>Every problem, given the environment and the rest of the silo's settings; empty when usable.</summary>
    public IReadOnlyList<string> Validate(Func<string, string?> environment, SiloHostOptions host)
    {
        var problems = new List<string>();
        if (Mode.Trim().ToLowerInvariant() is not (Auto or On or Off))
            problems.Add($"{nameof(Mode)} = '{Mode}': use auto, on or off.");
        if (MaxAgents < 1)
            problems.Add($"{nameof(MaxAgents)} = {MaxAgents}: at least 1 silo must watch the pods (e.g. 2).");
        if (problems.Count > 0 || !IsEnabled(environment)) return problems;

        string[] missing = PodVariables.Where(v => string.IsNullOrEmpty(environment(v))).ToArray();
        if (missing.Length > 0)
            problems.Add($"{nameof(Mode)}: Kubernetes hosting needs the pod variables {string.Join(", ", missing)}: set them from the downward API (see deploy/kubernetes/statefulset.yaml) or set Kubernetes:Mode=off.");
        if (environment("POD_IP") is { Length: > 0 } podIp && !System.Net.IPAddress.TryParse(podIp, out _))
            problems.Add($"{nameof(Mode)}: POD_IP = '{podIp}' is not an IP address: set it from the downward API (fieldPath: status.podIP).");
        if (host.Membership.NormalizedProvider == MembershipOptions.Localhost)
            problems.Add($"{nameof(Mode)}: in Kubernetes every pod is its own machine: use Orleans:Membership:Provider=Redis or AzureTable, not {MembershipOptions.Localhost}.");
        if (!string.IsNullOrWhiteSpace(host.SiloName))
            problems.Add($"{nameof(Mode)}: in Kubernetes the silo is named after its pod (node ids are <pod>/<device>): remove Orleans:SiloName.");
        if (environment("ORLEANS_CLUSTER_ID") is { Length: > 0 } clusterId && clusterId != host.ClusterId)
            problems.Add($"{nameof(Mode)}: ORLEANS_CLUSTER_ID = '{clusterId}' but Orleans:ClusterId = '{host.ClusterId}': set both from the pod's orleans/clusterId label.");
        if (environment("ORLEANS_SERVICE_ID") is { Length: > 0 } serviceId && serviceId != host.ServiceId)
            problems.Add($"{nameof(Mode)}: ORLEANS_SERVICE_ID = '{serviceId}' but Orleans:ServiceId = '{host.ServiceId}': set both from the pod's orleans/serviceId label.");
        return problems;
    }
}
