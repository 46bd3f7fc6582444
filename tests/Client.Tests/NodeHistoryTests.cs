using System.Text.Json;
using Cluster.Grains.Interfaces.Events;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;

namespace Cluster.Client.Tests;

/// <summary>
/// Node events with no job — cordon, drain, uncordon, nodes joining — are recorded in the cluster's bounded history
/// (the job event log keyed <see cref="EventLogKeys.Cluster"/>) and read with <c>events --history</c> and
/// <c>node events &lt;node&gt;</c>, with their reasons and who asked; the history survives its grain's re-activation.
/// </summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class NodeHistoryTests(ConsoleClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Cordon_drain_and_uncordon_of_a_node_are_in_its_recorded_history_with_their_reasons()
    {
        string[] nodes = (await ConsoleHarness.RunAsync(fixture.Client, "nodes", "-o", "name")).Raw
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string node = nodes.Order(StringComparer.Ordinal).Last(), other = nodes.Order(StringComparer.Ordinal).First();
        try
        {
            Assert.Equal(0, (await ConsoleHarness.RunAsync(fixture.Client, "node", "cordon", node, "--reason", "fan noise")).ExitCode);
            Assert.Equal(0, (await ConsoleHarness.RunAsync(fixture.Client, "node", "drain", node, "--reason", "replace fan")).ExitCode);
            Assert.Equal(0, (await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", node)).ExitCode);
            Assert.Equal(0, (await ConsoleHarness.RunAsync(fixture.Client, "node", "cordon", other, "--reason", "other node")).ExitCode);
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", node);
            await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", other);
        }

        // The node's history: its three actions in order, the reasons given, and nothing of the other node.
        JsonElement[] events = [];
        await Eventually.True(async () =>
        {
            var page = await ConsoleHarness.RunAsync(fixture.Client, "node", "events", node, "--json");
            Assert.True(page.ExitCode == 0, page.ToString());
            events = [.. page.Json().GetProperty("events").EnumerateArray()];
            return events.Any(e => e.GetProperty("kind").GetString() == nameof(ClusterEventKind.NodeUncordoned) && e.GetProperty("seq").GetInt64() > Seq(events, "fan noise"));
        }, Deadline, "the node's cordon, drain and uncordon to be recorded");
        Assert.All(events, e => Assert.Equal(node, e.GetProperty("nodeId").GetString()));
        Assert.All(events, e => Assert.True(e.TryGetProperty("principal", out _), "each recorded event says who asked (null for the cluster's own)"));
        var actions = events.SkipWhile(e => e.GetProperty("reason").ValueKind != JsonValueKind.String || e.GetProperty("reason").GetString() != "fan noise")
            .Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("reason").ValueKind == JsonValueKind.String ? e.GetProperty("reason").GetString() : null))
            .ToArray();
        Assert.Equal((nameof(ClusterEventKind.NodeCordoned), "fan noise"), actions[0]);
        Assert.Equal((nameof(ClusterEventKind.NodeDraining), "replace fan"), actions[1]);
        Assert.Equal(nameof(ClusterEventKind.NodeUncordoned), actions[2].Item1);

        // The whole cluster's history holds both nodes; paging by the number the node's page gives.
        var all = await Eventually.Value(async () => (await ConsoleHarness.RunAsync(fixture.Client, "events", "--history", "--limit", "1000", "--json")).Json(),
            h => h.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("reason").ValueKind == JsonValueKind.String && e.GetProperty("reason").GetString() == "other node"),
            Deadline, "the other node's cordon to be recorded");
        Assert.Equal(JsonValueKind.Null, all.GetProperty("nodeId").ValueKind);
        Assert.Contains(all.GetProperty("events").EnumerateArray(), e => e.GetProperty("nodeId").GetString() == other);
        long cordonSeq = Seq(events, "fan noise");
        var next = (await ConsoleHarness.RunAsync(fixture.Client, "node", "events", node, "--after", $"{cordonSeq}", "--limit", "1", "--json")).Json();
        Assert.Equal(nameof(ClusterEventKind.NodeDraining), Assert.Single(next.GetProperty("events").EnumerateArray()).GetProperty("kind").GetString());
        Assert.True(next.GetProperty("newerCursor").ValueKind == JsonValueKind.Number, next.ToString()); // the uncordon is after it
        var older = (await ConsoleHarness.RunAsync(fixture.Client, "node", "events", node, "--before", $"{cordonSeq}", "--json")).Json();
        Assert.DoesNotContain(older.GetProperty("events").EnumerateArray(), e => e.GetProperty("nodeId").GetString() != node);

        var table = await ConsoleHarness.RunAsync(fixture.Client, "events", "--history", "--node", node, "-o", "wide");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("replace fan", table.Out);
        Assert.Contains("NodeDraining", table.Out);

        // Persisted: a fresh activation of the history reads the same events back.
        var log = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IJobEventLogGrain>(EventLogKeys.Cluster);
        var before = await log.GetPage(new JobEventQuery(1000, NodeId: node));
        await log.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var reread = await Eventually.Value(() => log.GetPage(new JobEventQuery(1000, NodeId: node)), p => p.Events.Count >= before.Events.Count, Deadline, "the history to re-activate");
        Assert.Equal(before.Events.Select(r => (r.Seq, r.Event.Kind, r.Event.Reason)), reread.Events.Take(before.Events.Count).Select(r => (r.Seq, r.Event.Kind, r.Event.Reason)));
    }

    [Fact]
    public async Task Unknown_nodes_and_mixed_options_are_refused_naming_the_fix()
    {
        var unknown = await ConsoleHarness.RunAsync(fixture.Client, "node", "events", (await SiloNodes.OfAsync(fixture.Client, "Silo_0"))[0][..^1] + "9"); // one character off a node the silo exposes
        Assert.Equal(ExitCodes.NotFound, unknown.ExitCode);
        Assert.Contains("Did you mean", unknown.Error);
        var live = await ConsoleHarness.RunAsync(fixture.Client, "events", "--history", "--follow");
        Assert.Equal(ExitCodes.Usage, live.ExitCode);
        var job = await ConsoleHarness.RunAsync(fixture.Client, "events", "--history", "--job", "some-job");
        Assert.Equal(ExitCodes.Usage, job.ExitCode);
        Assert.Contains("job events some-job", job.Error);
        var neither = await ConsoleHarness.RunAsync(fixture.Client, "events");
        Assert.Equal(ExitCodes.Usage, neither.ExitCode);
        Assert.Contains("--history", neither.Error);
        var badLimit = await ConsoleHarness.RunAsync(fixture.Client, "node", "events", (await SiloNodes.OfAsync(fixture.Client, "Silo_0"))[0], "--limit", "0");
        Assert.Equal(ExitCodes.Usage, badLimit.ExitCode);
    }

    [Fact]
    public async Task A_client_cannot_append_to_the_cluster_history()
    {
        var log = fixture.Client.GetGrain<IJobEventLogGrain>(EventLogKeys.Cluster);
        await Assert.ThrowsAnyAsync<Exception>(() => log.Append(new ClusterEvent(DateTimeOffset.UtcNow, ClusterEventKind.NodeCordoned, null, "Silo_0/cpu0", 0, 0, 0, null, "forged")));
        Assert.DoesNotContain((await log.GetPage(new JobEventQuery(1000))).Events, r => r.Event.Message == "forged");
    }

    private static long Seq(JsonElement[] events, string reason) =>
        events.FirstOrDefault(e => e.GetProperty("reason").ValueKind == JsonValueKind.String && e.GetProperty("reason").GetString() == reason) is { ValueKind: JsonValueKind.Object } e
            ? e.GetProperty("seq").GetInt64() : long.MaxValue;
}
