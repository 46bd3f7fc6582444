using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cluster.Grains.Hosting;
using YamlDotNet.RepresentationModel;

namespace Cluster.Silo.Tests;

/// <summary>
/// deploy/prometheus/alerts.yaml and deploy/grafana parse, and every cluster metric they query is one the silo
/// exports (names derived from the real instruments, as the Prometheus exporter names them).
/// </summary>
public sealed partial class ObservabilityAssetsTests
{
    private static readonly string s_deploy = Path.Combine(RepositoryRoot(), "deploy");

    [Fact]
    public void Every_alert_rule_is_complete_and_queries_only_exported_metrics()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(s_deploy, "prometheus", "alerts.yaml"))) stream.Load(reader);
        var rules = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode)["groups"])[0])["rules"]).Cast<YamlMappingNode>().ToList();

        var alerts = rules.Select(r => ((YamlScalarNode)r["alert"]).Value).ToList();
        Assert.Equal(["ClusterSiloLost", "ClusterJobRecoveringTooLong", "ClusterWaitingForStorage", "ClusterHeartbeatLag"], alerts);
        foreach (var rule in rules)
        {
            Assert.NotEmpty(((YamlScalarNode)rule["expr"]).Value!);
            Assert.NotEmpty(((YamlScalarNode)((YamlMappingNode)rule["labels"])["severity"]).Value!);
            Assert.NotEmpty(((YamlScalarNode)((YamlMappingNode)rule["annotations"])["summary"]).Value!);
            AssertExported(((YamlScalarNode)rule["expr"]).Value!);
        }
    }

    [Fact]
    public void The_dashboard_has_the_panels_operators_need_and_queries_only_exported_metrics()
    {
        string path = Directory.GetFiles(Path.Combine(s_deploy, "grafana"), "*.json").Single();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(path));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        var titles = panels.Select(p => p.GetProperty("title").GetString()!).ToList();
        foreach (string needed in new[] { "Tokens/s", "Step time p50 / p99", "Recoveries", "Heartbeat lag by node", "Checkpoint commit (stall) p50 / p99", "Device utilization by node" })
            Assert.Contains(needed, titles);
        foreach (var target in panels.SelectMany(p => p.GetProperty("targets").EnumerateArray()))
            AssertExported(target.GetProperty("expr").GetString()!);
    }

    private static void AssertExported(string expression)
    {
        var exported = ExportedNames();
        foreach (Match metric in ClusterMetric().Matches(expression))
        {
            string name = Regex.Replace(metric.Value, "_(bucket|count|sum)$", "");
            Assert.True(exported.Contains(name), $"'{metric.Value}' in '{expression}' is not a metric the silo exports ({string.Join(", ", exported)})");
        }
    }

    /// <summary>The Prometheus names of the training cluster's instruments: dots to underscores, unit suffix, _total for counters.</summary>
    private static HashSet<string> ExportedNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name != TrainingMetrics.MeterName) return;
            string name = instrument.Name.Replace('.', '_') + (instrument.Unit == "s" ? "_seconds" : "");
            names.Add(instrument is Counter<long> or Counter<double> ? name + "_total" : name);
        };
        TrainingMetrics.Heartbeat("assets-test/cpu0", TimeSpan.Zero, null); // makes sure the meter exists
        listener.Start();
        Assert.NotEmpty(names);
        return names;
    }

    [GeneratedRegex(@"\bcluster_[a-z_]+")]
    private static partial Regex ClusterMetric();

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cluster.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No folder above '{AppContext.BaseDirectory}' contains Cluster.sln.");
    }
}
