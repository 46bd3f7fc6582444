using System.Text.Json;
using Cluster.Client.Cli;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Nodes;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

/// <summary>
/// Issue 13: after a scheduler restart, a node whose heartbeat lists stages of a job that has not reported is held back
/// from placement; <c>nodes</c> (table, wide, JSON) and <c>top</c> say so, for which job and until when.
/// </summary>
public sealed class HeldBackNodeRenderingTests
{
    private static readonly DateTimeOffset s_since = new(2026, 12, 2, 19, 0, 0, TimeSpan.Zero);

    private static NodeInfo Node(string id, NodeHold? hold) => new(
        new NodeCapabilities(id, id.Split('/')[0], "cpu", 1L << 30, 10, 1),
        new NodeHealth(id, NodeState.Ready, 7, 12, 20, 1L << 20, 0, null, s_since, 1),
        s_since, [], HeldBack: hold);

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
}
