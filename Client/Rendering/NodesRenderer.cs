using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>nodes</c>: one row per node with its heartbeat, flags and stages.</summary>
internal static class NodesRenderer
{
    public static IRenderable Render(IReadOnlyList<NodeView> nodes)
    {
        if (nodes.Count == 0) return new Markup("[yellow]No node has registered with the scheduler yet[/] (a silo registers its device slots a few seconds after it starts).");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("node", "silo", "device", "state", "step p50", "step p99", "memory", "heartbeat", "flags", "stages");
        foreach (var n in nodes)
        {
            table.AddRow(
                Markup.Escape(n.NodeId),
                Markup.Escape(n.Silo),
                Markup.Escape(n.Device),
                $"[{Formats.NodeColour(n.State)}]{n.State}[/]",
                Formats.Ms(n.StepP50Ms),
                Formats.Ms(n.StepP99Ms),
                $"{Formats.Bytes(n.MemoryInUseBytes)} / {Formats.Bytes(n.MemoryBytes)}",
                Formats.Age(n.HeartbeatAgeSeconds),
                Flags(n),
                n.Stages.Count == 0 ? "[grey]-[/]" : Markup.Escape(string.Join(" ", n.Stages)));
        }
        return table;
    }

    public static string Flags(NodeView n)
    {
        var flags = new List<string>();
        if (n.Draining) flags.Add("[yellow]draining[/]");
        else if (n.Cordoned) flags.Add("[yellow]cordoned[/]");
        if (n.Straggler is not null) flags.Add("[yellow]straggler[/]");
        if (n.ErrorCount > 0) flags.Add($"[red]{n.ErrorCount} error(s)[/]");
        return flags.Count == 0 ? "[grey]-[/]" : string.Join(" ", flags);
    }
}
