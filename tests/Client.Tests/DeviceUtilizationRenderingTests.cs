using System.Text.Json;
using Cluster.Client.Cli;
using Cluster.Client.Commands;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Nodes;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

/// <summary>
/// A node's device utilization (the share of the time between its heartbeats its device ran operations) in <c>nodes</c>
/// (<c>-o wide</c> and JSON) and <c>top</c>, where <c>--sort util</c> puts the idlest device first; unknown ("-", null) before a
/// heartbeat and for a lost node.
/// </summary>
public sealed class DeviceUtilizationRenderingTests
{
    private static readonly DateTimeOffset s_at = new(2026, 12, 4, 20, 0, 0, TimeSpan.Zero);

    private static NodeView View(string id, double? utilization, bool lost = false) => NodeView.From(new NodeInfo(
        new NodeCapabilities(id, id.Split('/')[0], "cuda", 1L << 30, 10, 1),
        utilization is null ? null : new NodeHealth(id, NodeState.Ready, 7, 12, 20, 1L << 20, 0, null, s_at, 1) { DeviceUtilization = utilization.Value },
        s_at, ["job/s0"], Lost: lost), s_at);

    private static NodeView[] Views() => [View("gpu-1/cuda0", 0.934), View("gpu-1/cuda1", 0.25), View("gpu-2/cuda0", null), View("gpu-3/cuda0", 0.9, lost: true)];

    [Fact]
    public void Nodes_wide_shows_each_devices_utilization_as_a_percentage_and_a_dash_when_unknown()
    {
        var console = new TestConsole().Width(260);
        console.Write(NodesRenderer.Render(Views(), new TableOptions(Wide: true)));

        string[] lines = console.Output.Split('\n');
        Assert.Contains("util", lines.First(l => l.Contains("node", StringComparison.Ordinal)), StringComparison.Ordinal);
        string Util(string node) => lines.Single(l => l.Contains(node, StringComparison.Ordinal)).Split('│', StringSplitOptions.TrimEntries)[11];
        Assert.Equal("93 %", Util("gpu-1/cuda0"));
        Assert.Equal("25 %", Util("gpu-1/cuda1"));
        Assert.Equal("-", Util("gpu-2/cuda0"));
        Assert.Equal("-", Util("gpu-3/cuda0"));
    }

    [Fact]
    public void Nodes_json_has_the_utilization_as_a_share_or_null()
    {
        var json = JsonDocument.Parse(JsonSerializer.Serialize(Views(), ConsoleJson.Indented)).RootElement;

        Assert.Equal(0.934, json[0].GetProperty("deviceUtilization").GetDouble(), 6);
        Assert.Equal(JsonValueKind.Null, json[2].GetProperty("deviceUtilization").ValueKind);
        Assert.Equal(JsonValueKind.Null, json[3].GetProperty("deviceUtilization").ValueKind);
    }

    [Fact]
    public void Top_sorted_by_util_puts_the_idlest_device_first_and_unknown_last()
    {
        var view = TopCommand.Build(s_at, Views(), [], TopCommand.SortKey.Util);
        var console = new TestConsole().Width(160);
        console.Write(TopCommand.Render(view, TableOptions.Default, TopCommand.SortKey.Util));

        var rows = console.Output.Split('\n').Where(l => l.Contains("/cuda", StringComparison.Ordinal)).Select(l => l.Split('│', StringSplitOptions.TrimEntries)).ToArray();
        Assert.Equal(["gpu-1/cuda1", "gpu-1/cuda0", "gpu-2/cuda0", "gpu-3/cuda0"], rows.Select(r => r[1]));
        Assert.Equal(["25 %", "93 %", "-", "-"], rows.Select(r => r[3]));
    }
}
