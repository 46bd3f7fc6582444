namespace Cluster.Silo.Configuration;

/// <summary>Metrics (section <c>Observability</c>); off by default.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>Serve OpenTelemetry metrics for Prometheus at http://PrometheusHost:PrometheusPort/metrics; 0 = off. <value>0.</value></summary>
    public int PrometheusPort { get; set; }

    /// <summary>Host name the scrape endpoint listens on ("+" = every interface). <value>localhost.</value></summary>
    public string PrometheusHost { get; set; } = "localhost";

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (PrometheusPort is < 0 or > 65535)
            problems.Add($"{nameof(PrometheusPort)} = {PrometheusPort}: use 0 (off) or a free port such as 9464.");
        if (string.IsNullOrWhiteSpace(PrometheusHost))
            problems.Add($"{nameof(PrometheusHost)} is empty: use localhost, a host name, or + for every interface.");
        return problems;
    }
}
