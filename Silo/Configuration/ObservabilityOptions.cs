namespace Cluster.Silo.Configuration;

/// <summary>Metrics, health probes and the Orleans Dashboard (section <c>Observability</c>); off by default.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>Serve OpenTelemetry metrics for Prometheus at http://PrometheusHost:PrometheusPort/metrics; 0 = off. <value>0.</value></summary>
    public int PrometheusPort { get; set; }

    /// <summary>Host name the scrape endpoint listens on ("+" = every interface). <value>localhost.</value></summary>
    public string PrometheusHost { get; set; } = "localhost";

    /// <summary>Serve the Orleans Dashboard at http://DashboardHost:DashboardPort/; 0 = off. <value>0.</value></summary>
    public int DashboardPort { get; set; }

    /// <summary>Host name the dashboard listens on ("+" = every interface; it has no login: keep it internal). <value>localhost.</value></summary>
    public string DashboardHost { get; set; } = "localhost";

    /// <summary>
    /// Serve health probes at http://HealthHost:HealthPort/health/startup, /health/ready and /health/live (for
    /// Kubernetes, load balancers, systemd watchdogs); 0 = off. <value>0.</value>
    /// </summary>
    public int HealthPort { get; set; }

    /// <summary>Host name the probes listen on ("+" = every interface, as a kubelet probing the pod IP needs). <value>localhost.</value></summary>
    public string HealthHost { get; set; } = "localhost";

    /// <summary>
    /// /health/live fails when one operation has run on a device worker for longer than this (a hung kernel or
    /// driver): a restart is then the only way out. Keep it far above the longest step or checkpoint serialization. <value>10 min.</value>
    /// </summary>
    public TimeSpan DeviceStallTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest a probe waits for the checkpoint store or the node grains before it reports them unreachable. <value>5 s.</value></summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Send metrics, traces and logs over OTLP to this collector, e.g. http://otel-collector:4317 (gRPC) or
    /// http://otel-collector:4318 (with <see cref="OtlpProtocol"/> = HttpProtobuf); empty = off. Orleans' activity
    /// propagation is on with it, so one trace follows a call across silos. <value>empty.</value>
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>OTLP transport: Grpc or HttpProtobuf. <value>Grpc.</value></summary>
    public string OtlpProtocol { get; set; } = "Grpc";

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (OtlpEndpoint is { } otlp && (!otlp.IsAbsoluteUri || otlp.Scheme is not ("http" or "https")))
            problems.Add($"{nameof(OtlpEndpoint)} = '{otlp}' must be an absolute http(s) URL such as http://otel-collector:4317.");
        if (!OtlpProtocol.Equals("Grpc", StringComparison.OrdinalIgnoreCase) && !OtlpProtocol.Equals("HttpProtobuf", StringComparison.OrdinalIgnoreCase))
            problems.Add($"{nameof(OtlpProtocol)} = '{OtlpProtocol}': use Grpc (port 4317) or HttpProtobuf (port 4318).");
        if (HealthPort is < 0 or > 65535)
            problems.Add($"{nameof(HealthPort)} = {HealthPort}: use 0 (off) or a free port such as 8081.");
        if (HealthPort > 0 && (HealthPort == PrometheusPort || HealthPort == DashboardPort))
            problems.Add($"{nameof(HealthPort)} = {HealthPort} equals {(HealthPort == PrometheusPort ? nameof(PrometheusPort) : nameof(DashboardPort))}: give each its own port.");
        if (string.IsNullOrWhiteSpace(HealthHost))
            problems.Add($"{nameof(HealthHost)} is empty: use localhost, a host name, or + for every interface.");
        if (DeviceStallTimeout <= TimeSpan.Zero)
            problems.Add($"{nameof(DeviceStallTimeout)} = {DeviceStallTimeout} must be positive, e.g. 00:10:00.");
        if (HealthCheckTimeout <= TimeSpan.Zero)
            problems.Add($"{nameof(HealthCheckTimeout)} = {HealthCheckTimeout} must be positive, e.g. 00:00:05.");
        if (DashboardPort is < 0 or > 65535)
            problems.Add($"{nameof(DashboardPort)} = {DashboardPort}: use 0 (off) or a free port such as 8080.");
        if (DashboardPort > 0 && DashboardPort == PrometheusPort)
            problems.Add($"{nameof(DashboardPort)} = {DashboardPort} equals {nameof(PrometheusPort)}: give each its own port.");
        if (string.IsNullOrWhiteSpace(DashboardHost))
            problems.Add($"{nameof(DashboardHost)} is empty: use localhost, a host name, or + for every interface.");
        if (PrometheusPort is < 0 or > 65535)
            problems.Add($"{nameof(PrometheusPort)} = {PrometheusPort}: use 0 (off) or a free port such as 9464.");
        if (string.IsNullOrWhiteSpace(PrometheusHost))
            problems.Add($"{nameof(PrometheusHost)} is empty: use localhost, a host name, or + for every interface.");
        return problems;
    }
}
