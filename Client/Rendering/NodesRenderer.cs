using System.Globalization;
using Cluster.Client.Cli;
using Cluster.Client.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Client.Rendering;

/// <summary><c>nodes</c>: one row per node with its heartbeat, flags and stages; <c>-o wide</c> adds device utilization, speed and the last error.</summary>
internal static class NodesRenderer
{
    private static readonly string[] s_columns = ["node", "silo", "device", "state", "step p50", "step p99", "memory", "heartbeat", "flags", "stages"];

    private static readonly string[] s_wideColumns = ["util", "GFLOP/s", "errors", "last error"];

    public static IRenderable Render(IReadOnlyList<NodeView> nodes) => Render(nodes, TableOptions.Default);

    public static IRenderable Render(IReadOnlyList<NodeView> nodes, TableOptions options)
    {
        if (nodes.Count == 0) return TableStyle.Empty(options, "[yellow]No node has registered with the scheduler yet[/] (a silo registers its device slots a few seconds after it starts).");
        var table = TableStyle.Create(options, options.Wide ? [.. s_columns, .. s_wideColumns] : s_columns);
        foreach (var n in nodes)
        {
            var row = new List<string>
            {
                Markup.Escape(n.NodeId),
                Markup.Escape(n.Silo),
                Markup.Escape(n.Device),
                $"[{Formats.NodeColour(n.State)}]{n.State}[/]",
                Formats.Ms(n.StepP50Ms),
                Formats.Ms(n.StepP99Ms),
                $"{Formats.Bytes(n.MemoryInUseBytes)} / {Formats.Bytes(n.MemoryBytes)}",
                Formats.Age(n.HeartbeatAgeSeconds),
                Flags(n),
                n.Stages.Count == 0 ? "[grey]-[/]" : Markup.Escape(string.Join(" ", n.Stages)),
            };
            if (options.Wide)
            {
                row.Add(Formats.Percent(n.DeviceUtilization));
                row.Add(Formats.Number(n.Gigaflops));
                row.Add(n.ErrorCount.ToString(CultureInfo.InvariantCulture));
                row.Add(n.LastError is null ? "-" : Markup.Escape(n.LastError));
            }
            table.AddRow([.. row]);
        }
        return table;
    }

    public static string Flags(NodeView n)
    {
        var flags = new List<string>();
        string because = n.Reason is null ? "" : $" ({Markup.Escape(n.Reason)})";
        if (n.Draining) flags.Add($"[yellow]draining[/]{because}");
        else if (n.Cordoned) flags.Add($"[yellow]cordoned[/]{because}");
        if (n.Straggler is not null) flags.Add("[yellow]straggler[/]");
        if (n.HeldBackFor is { Count: > 0 } jobs)
            flags.Add($"[yellow]held back[/] (for {Markup.Escape(string.Join(", ", jobs))}" +
                      (n.HeldBackUntil is { } until ? $", until {Formats.Time(until)})" : ")"));
        if (n.NotPlaceable is not null) flags.Add($"[yellow]not placeable[/] ({Markup.Escape(n.NotPlaceable)})");
        if (n.FlakyDevice) flags.Add("[red]flaky device[/]");
        if (n.ErrorCount > 0) flags.Add($"[red]{n.ErrorCount} error(s)[/]");
        return flags.Count == 0 ? "[grey]-[/]" : string.Join(" ", flags);
    }
}
