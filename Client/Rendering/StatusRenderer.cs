using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>status</c>: silos, node and job counts by state, and the jobs still running.</summary>
internal static class StatusRenderer
{
    public static IRenderable Render(ClusterSummaryView s)
    {
        var silos = new Table().Border(TableBorder.Rounded).Title("silos")
            .AddColumns("silo", "address", "status", "nodes");
        foreach (var silo in s.Silos)
            silos.AddRow(Markup.Escape(silo.Name), Markup.Escape(silo.Address), Markup.Escape(silo.Status), silo.Nodes.ToString(System.Globalization.CultureInfo.InvariantCulture));

        string nodes = s.NodesByState.Count == 0 ? "none registered" : string.Join(", ", s.NodesByState.Select(kv => $"[{Formats.NodeColour(kv.Key)}]{kv.Value} {kv.Key}[/]"));
        string flags = string.Join(", ", new[] { (s.CordonedNodes, "cordoned"), (s.DrainingNodes, "draining"), (s.Stragglers, "straggler") }
            .Where(x => x.Item1 > 0).Select(x => $"[yellow]{x.Item1} {x.Item2}[/]"));
        string jobs = s.JobsByState.Count == 0 ? "none" : string.Join(", ", s.JobsByState.Select(kv => $"{kv.Value} {kv.Key}"));

        var summary = new Grid().AddColumn().AddColumn()
            .AddRow("[bold]nodes[/]", $"{s.Nodes}: {nodes}{(flags.Length > 0 ? "; " + flags : "")}")
            .AddRow("[bold]jobs[/]", $"{s.Jobs}: {Markup.Escape(jobs)}");

        var parts = new List<IRenderable> { silos, summary };
        if (s.ActiveJobs.Count > 0) parts.Add(JobsRenderer.Render(s.ActiveJobs, null, "active jobs"));
        return new Rows(parts);
    }
}
