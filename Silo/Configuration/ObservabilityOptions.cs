namespace Cluster.Silo.Configuration;

/// <summary>Metrics and the Orleans Dashboard (section <c>Observability</c>); off by default.</summary>
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

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
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
