using System.Text.Json;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Nodes;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

/// <summary>A node whose device reports itself flaky is flagged in <c>nodes</c> and <c>top</c> (table and JSON), beside the scheduler's cordon and its reason.</summary>
public sealed class FlakyDeviceNodeRenderingTests
{
    private static readonly DateTimeOffset s_at = new(2026, 12, 4, 17, 0, 0, TimeSpan.Zero);

    private static NodeView View(string id, bool flaky) => NodeView.From(new NodeInfo(
        new NodeCapabilities(id, id.Split('/')[0], "cuda", 1L << 30, 10, 1),
        new NodeHealth(id, flaky ? NodeState.Unhealthy : NodeState.Ready, 7, 12, 20, 1L << 20, flaky ? 5 : 0,
            flaky ? "flaky device: 5 device errors within 00:10:00 (the budget is 5); the last: CUDA error: an illegal memory access was encountered" : null,
            s_at, 0) { FlakyDevice = flaky },
        s_at, [], Cordoned: flaky, Reason: flaky ? "flaky device …; cordoned by the scheduler until an operator uncordons it" : null), s_at);

    [Fact]
    public void A_flaky_node_is_flagged_with_the_schedulers_cordon_and_a_healthy_one_is_not()
    {
        var console = new TestConsole().Width(300);
        console.Write(NodesRenderer.Render([View("gpu-7/cuda0", flaky: true), View("gpu-7/cuda1", flaky: false)], new TableOptions(Wide: false)));

        string[] lines = console.Output.Split('\n');
        string flaky = lines.Single(l => l.Contains("gpu-7/cuda0", StringComparison.Ordinal));
        Assert.Contains("flaky device", flaky, StringComparison.Ordinal);
        Assert.Contains("cordoned (flaky device …; cordoned by the scheduler", flaky, StringComparison.Ordinal);
        Assert.DoesNotContain("flaky", lines.Single(l => l.Contains("gpu-7/cuda1", StringComparison.Ordinal)), StringComparison.Ordinal);

        var json = JsonDocument.Parse(JsonSerializer.Serialize(new[] { View("gpu-7/cuda0", true), View("gpu-7/cuda1", false) }, ConsoleJson.Indented)).RootElement;
        Assert.True(json[0].GetProperty("flakyDevice").GetBoolean());
        Assert.False(json[1].GetProperty("flakyDevice").GetBoolean());
    }
}
