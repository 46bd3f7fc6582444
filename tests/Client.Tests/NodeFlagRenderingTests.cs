using System.Text.Json;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Nodes;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

/// <summary>
/// The flags <c>nodes</c> (table, wide, JSON) and <c>top</c> show on a node. Issue 13: after a scheduler restart, a node
/// whose heartbeat lists stages of a job that has not reported is held back from placement, for which job and until
/// when. A node whose device reports itself flaky is flagged beside the scheduler's cordon and its reason. A node the
/// scheduler does not place on (its silo not yet Active in the scheduler's membership view, say) says why; a lost one
/// says only that it is lost.
/// </summary>
public sealed class NodeFlagRenderingTests
{
    private static readonly DateTimeOffset s_since = new(2026, 12, 2, 19, 0, 0, TimeSpan.Zero);

    private static NodeInfo Node(string id, NodeHold? hold) => new(
        new NodeCapabilities(id, id.Split('/')[0], "cpu", 1L << 30, 10, 1),
        new NodeHealth(id, NodeState.Ready, 7, 12, 20, 1L << 20, 0, null, s_since, 1),
        s_since, [], HeldBack: hold);

    private static NodeView Flaky(string id, bool flaky) => NodeView.From(new NodeInfo(
        new NodeCapabilities(id, id.Split('/')[0], "cuda", 1L << 30, 10, 1),
        new NodeHealth(id, flaky ? NodeState.Unhealthy : NodeState.Ready, 7, 12, 20, 1L << 20, flaky ? 5 : 0,
            flaky ? "flaky device: 5 device errors within 00:10:00 (the budget is 5); the last: CUDA error: an illegal memory access was encountered" : null,
            s_since, 0) { FlakyDevice = flaky },
        s_since, [], Cordoned: flaky, Reason: flaky ? "flaky device …; cordoned by the scheduler until an operator uncordons it" : null), s_since);

    private static NodeView[] Views() =>
    [
        NodeView.From(Node("silo-a/cpu0", new NodeHold(["silent-job"], s_since, s_since.AddMinutes(10))), s_since.AddSeconds(5)),
        NodeView.From(Node("silo-a/cpu1", null), s_since.AddSeconds(5)),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nodes_table_flags_a_held_back_node_with_its_job_and_when_the_hold_ends(bool wide)
    {
        var console = new TestConsole().Width(260);
        console.Write(NodesRenderer.Render(Views(), new TableOptions(Wide: wide)));

        string[] lines = console.Output.Split('\n');
        string held = lines.Single(l => l.Contains("silo-a/cpu0", StringComparison.Ordinal));
        Assert.Contains("held back (for silent-job, until 19:10:00.000)", held, StringComparison.Ordinal);
        Assert.DoesNotContain("held back", lines.Single(l => l.Contains("silo-a/cpu1", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Nodes_json_has_the_job_it_is_held_for_since_and_until()
    {
        var json = JsonDocument.Parse(JsonSerializer.Serialize(Views(), ConsoleJson.Indented)).RootElement;

        var held = json[0];
        Assert.Equal(["silent-job"], held.GetProperty("heldBackFor").EnumerateArray().Select(j => j.GetString()));
        Assert.Equal(s_since, held.GetProperty("heldBackSince").GetDateTimeOffset());
        Assert.Equal(s_since.AddMinutes(10), held.GetProperty("heldBackUntil").GetDateTimeOffset());
        var free = json[1];
        Assert.Equal(JsonValueKind.Null, free.GetProperty("heldBackFor").ValueKind);
        Assert.Equal(JsonValueKind.Null, free.GetProperty("heldBackUntil").ValueKind);
    }

    [Fact]
    public void A_flaky_node_is_flagged_with_the_schedulers_cordon_and_a_healthy_one_is_not()
    {
        NodeView[] views = [Flaky("gpu-7/cuda0", flaky: true), Flaky("gpu-7/cuda1", flaky: false)];
        var console = new TestConsole().Width(300);
        console.Write(NodesRenderer.Render(views, new TableOptions(Wide: false)));

        string[] lines = console.Output.Split('\n');
        string flaky = lines.Single(l => l.Contains("gpu-7/cuda0", StringComparison.Ordinal));
        Assert.Contains("flaky device", flaky, StringComparison.Ordinal);
        Assert.Contains("cordoned (flaky device …; cordoned by the scheduler", flaky, StringComparison.Ordinal);
        Assert.DoesNotContain("flaky", lines.Single(l => l.Contains("gpu-7/cuda1", StringComparison.Ordinal)), StringComparison.Ordinal);

        var json = JsonDocument.Parse(JsonSerializer.Serialize(views, ConsoleJson.Indented)).RootElement;
        Assert.True(json[0].GetProperty("flakyDevice").GetBoolean());
        Assert.False(json[1].GetProperty("flakyDevice").GetBoolean());
    }

    [Fact]
    public void A_node_placement_passes_over_says_why_and_a_lost_one_only_that_it_is_lost()
    {
        const string why = "its silo silo-b is Joining in the scheduler's membership view (placement needs Active)";
        NodeView[] views =
        [
            NodeView.From(Node("silo-b/cpu0", null) with { NotPlaceable = why }, s_since),
            NodeView.From(Node("silo-b/cpu1", null) with { NotPlaceable = "no heartbeat for 9.0 s (NodeTimeout 5 s)", Lost = true }, s_since),
            NodeView.From(Node("silo-a/cpu0", null), s_since),
        ];
        var console = new TestConsole().Width(320);
        console.Write(NodesRenderer.Render(views, new TableOptions(Wide: false)));

        string[] lines = console.Output.Split('\n');
        Assert.Contains($"not placeable ({why})", lines.Single(l => l.Contains("silo-b/cpu0", StringComparison.Ordinal)), StringComparison.Ordinal);
        string lost = lines.Single(l => l.Contains("silo-b/cpu1", StringComparison.Ordinal));
        Assert.Contains("Lost", lost, StringComparison.Ordinal);
        Assert.DoesNotContain("not placeable", lost, StringComparison.Ordinal);
        Assert.DoesNotContain("not placeable", lines.Single(l => l.Contains("silo-a/cpu0", StringComparison.Ordinal)), StringComparison.Ordinal);

        var json = JsonDocument.Parse(JsonSerializer.Serialize(views, ConsoleJson.Indented)).RootElement;
        Assert.Equal(why, json[0].GetProperty("notPlaceable").GetString());
        Assert.Equal(JsonValueKind.Null, json[1].GetProperty("notPlaceable").ValueKind);
        Assert.Equal(JsonValueKind.Null, json[2].GetProperty("notPlaceable").ValueKind);
    }
}
