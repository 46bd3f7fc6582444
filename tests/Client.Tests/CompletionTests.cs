using Cluster.Client.Commands;
using Cluster.Client.Connection;

namespace Cluster.Client.Tests;

/// <summary>Completion scripts and the <c>[suggest]</c> requests they make: commands, options, and ids from the cluster.</summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class CompletionTests(ConsoleClusterFixture fixture)
{
    [Theory]
    [InlineData("bash", "complete -o default -F _clusterctl_complete clusterctl")]
    [InlineData("zsh", "compdef _clusterctl clusterctl")]
    [InlineData("fish", "complete -c clusterctl -f -a '(__clusterctl_complete)'")]
    public async Task Completion_prints_a_script_that_asks_clusterctl(string shell, string registration)
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "completion", shell);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(registration, result.Raw);
        Assert.Contains("clusterctl \"[suggest:", result.Raw);
        Assert.Equal(ExitCodes.Usage, (await ConsoleHarness.RunAsync(fixture.Client, "completion", "tcsh")).ExitCode);
    }

    [Fact]
    public async Task Suggest_offers_commands_options_and_the_clusters_job_and_node_ids()
    {
        var jobs = await fixture.Client.GetGrain<Grains.Interfaces.Jobs.IJobRegistryGrain>(Grains.Interfaces.Jobs.JobRegistryKeys.Default).GetAll();

        Assert.Equal(["show", "submit"], await Suggest("clusterctl job s"));
        Assert.Contains("--output", await Suggest("clusterctl nodes --o"));
        var nodes = await Suggest("clusterctl node drain Silo_");
        foreach (string node in (string[])[.. await SiloNodes.OfAsync(fixture.Client, "Silo_0"), .. await SiloNodes.OfAsync(fixture.Client, "Silo_1")])
            Assert.Contains(node, nodes);
        Assert.All(nodes, n => Assert.StartsWith("Silo_", n, StringComparison.Ordinal)); // (other tests add silos)
        Assert.Contains("Silo_1", await Suggest("clusterctl node cordon Silo_")); // a whole silo
        Assert.Contains("Silo_0", await Suggest("clusterctl nodes --silo "));
        if (jobs.Count > 0) Assert.Contains(jobs[0], await Suggest("/usr/local/bin/clusterctl job show "));
        Assert.Equal(["json", "name", "table", "wide", "yaml"], (await Suggest("clusterctl jobs -o ")).Select(s => s.ToLowerInvariant()).Order());
        // The position cuts the line: what follows the cursor does not count.
        Assert.Equal(["show", "submit"], await Suggest("clusterctl job s cli-x", position: "clusterctl job s".Length));
    }

    [Fact]
    public async Task Suggest_gives_up_on_an_unreachable_cluster_and_still_completes_commands()
    {
        int port = Grains.Hosting.LoopbackPorts.Free(1)[0]; // nothing listens there
        await using var harness = new ConsoleHarness(o => new ClusterConnector(o));
        harness.Context.CompletionTimeout = TimeSpan.FromSeconds(1);

        string line = $"clusterctl job show --gateway-port {port} ";
        var ids = await harness.RunAsync($"[suggest:{line.Length}]", line);
        Assert.True(ids.ExitCode == 0, ids.ToString());
        Assert.DoesNotContain("Silo_0", ids.Raw);
        var commands = await harness.RunAsync("[suggest:16]", "clusterctl jobs ");
        Assert.Contains("--watch", commands.Raw.Split('\n'));
    }

    private async Task<IReadOnlyList<string>> Suggest(string line, int? position = null)
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, $"[suggest:{position ?? line.Length}]", line);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Raw.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void Scripts_differ_per_shell() =>
        Assert.Equal(3, new[] { CompletionCommand.Shell.Bash, CompletionCommand.Shell.Zsh, CompletionCommand.Shell.Fish }.Select(CompletionCommand.Script).Distinct().Count());
}
