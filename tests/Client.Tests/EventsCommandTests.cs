using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Client.Tests;

[Collection(ConsoleClusterCollection.Name)]
public sealed class EventsCommandTests(ConsoleClusterFixture fixture)
{
    [Fact]
    public async Task Events_follow_prints_a_node_lost_when_a_silo_leaves()
    {
        var extra = await fixture.Cluster.StartAdditionalSiloAsync();
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        await Eventually.True(async () => (await scheduler.GetNodes()).Count(n => n.Capabilities.SiloName == extra.Name && n.Health is not null) == ConsoleClusterFixture.SlotsPerSilo,
            TimeSpan.FromSeconds(60), $"the nodes of {extra.Name} registered");

        await using var harness = new ConsoleHarness(fixture.Client);
        using var stop = new CancellationTokenSource();
        var following = harness.RunAsync(stop.Token, "events", "--follow", "--json");
        // The command says on standard error that it follows once its subscription is made.
        await Eventually.True(() => Task.FromResult(harness.Error.Output.Contains("following cluster events", StringComparison.Ordinal) || following.IsCompleted),
            TimeSpan.FromSeconds(30), "the events command subscribed");
        await fixture.Cluster.StopSiloAsync(extra);
        await Eventually.True(() => Task.FromResult(harness.RawSoFar().Contains("\"NodeLost\"", StringComparison.Ordinal) || following.IsCompleted),
            TimeSpan.FromSeconds(60), $"a NodeLost event for {extra.Name} printed");
        await stop.CancelAsync();
        var result = await following;

        Assert.True(result.ExitCode == 0, result.ToString());
        var lost = result.JsonLines().Where(e => e.GetProperty("kind").GetString() == "NodeLost").ToArray();
        Assert.NotEmpty(lost);
        Assert.All(lost, e => Assert.Equal("event", e.GetProperty("type").GetString()));
        Assert.Contains(lost, e => e.GetProperty("nodeId").GetString()!.StartsWith(extra.Name + "/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Events_for_a_duration_ends_by_itself()
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "events", "--for", "0.5", "--job", "nothing-happens-to-this-job");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("following cluster events for 0.5 s", result.Error);
    }
}
