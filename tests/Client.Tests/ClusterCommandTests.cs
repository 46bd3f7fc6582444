namespace Cluster.Client.Tests;

[Collection(ConsoleClusterCollection.Name)]
public sealed class ClusterCommandTests(ConsoleClusterFixture fixture)
{
    [Fact]
    public async Task Status_shows_silos_and_nodes_by_state()
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Silo_0", result.Out);
        Assert.Contains("Silo_1", result.Out);
        Assert.Matches(@"\d+ Ready", result.Out);
    }

    [Fact]
    public async Task Status_json_counts_silos_nodes_and_jobs()
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "status", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(2, json.GetProperty("silos").GetArrayLength());
        Assert.Equal("Active", json.GetProperty("silos")[0].GetProperty("status").GetString());
        Assert.True(json.GetProperty("nodes").GetInt32() >= 4); // plus lost ones if a test stopped an extra silo
        Assert.True(json.GetProperty("nodesByState").GetProperty("Ready").GetInt32() >= 4);
        Assert.True(json.GetProperty("jobs").GetInt32() >= 0);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, json.GetProperty("jobsByState").ValueKind);
    }

    [Fact]
    public async Task Nodes_lists_every_node_with_its_heartbeat()
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "nodes");

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] exposed = [.. await SiloNodes.OfAsync(fixture.Client, "Silo_0"), .. await SiloNodes.OfAsync(fixture.Client, "Silo_1")];
        Assert.Equal(2 * ClusterFixture.SlotsPerSilo, exposed.Length);
        foreach (string node in exposed)
            Assert.Contains(node, result.Out);
        Assert.Contains("Ready", result.Out);
        Assert.Contains("ago", result.Out);
    }

    [Fact]
    public async Task Nodes_json_has_state_timings_memory_and_flags()
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var nodes = result.Json().EnumerateArray().Where(n => n.GetProperty("silo").GetString() is "Silo_0" or "Silo_1").ToArray();
        Assert.Equal(4, nodes.Length);
        var first = nodes[0];
        string firstNode = (await SiloNodes.OfAsync(fixture.Client, "Silo_0"))[0]; // as the silo exposes it: cpu0 here, cuda0 on a GPU machine
        Assert.Equal(firstNode, first.GetProperty("nodeId").GetString());
        Assert.Equal("Silo_0", first.GetProperty("silo").GetString());
        Assert.Equal(await SiloNodes.DeviceOfAsync(fixture.Client, firstNode), first.GetProperty("device").GetString());
        Assert.Equal("Ready", first.GetProperty("state").GetString());
        Assert.True(first.GetProperty("memoryBytes").GetInt64() > 0);
        Assert.True(first.GetProperty("heartbeatAgeSeconds").GetDouble() >= 0);
        Assert.False(first.GetProperty("cordoned").GetBoolean());
        Assert.False(first.GetProperty("draining").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, first.GetProperty("straggler").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Array, first.GetProperty("stages").ValueKind);
    }
}
