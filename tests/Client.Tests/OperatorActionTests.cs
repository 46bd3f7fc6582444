namespace Cluster.Client.Tests;

/// <summary>
/// Node and job actions whose grain side is landing separately: until a silo implements an action, the console says
/// so (exit 1); names it does not know are refused with close matches either way.
/// </summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class OperatorActionTests(ConsoleClusterFixture fixture)
{
    [Theory]
    [InlineData("cordon")]
    [InlineData("uncordon")]
    [InlineData("drain")]
    public async Task Node_actions_on_an_unknown_node_fail_clearly(string verb)
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "node", verb, "Silo_0/cpu9", "--json");

        Assert.True(result.ExitCode is ExitCodes.NotFound or ExitCodes.Failed, result.ToString());
        if (result.ExitCode == ExitCodes.NotFound)
            Assert.Contains("'Silo_0/cpu0'", result.Error); // a close match
        else
            Assert.Contains($"does not implement '{verb}' yet", result.Error);
    }

    [Fact]
    public async Task Checkpoint_restore_of_a_step_without_a_checkpoint_lists_the_steps_that_have_one()
    {
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags("cli-restore-1", steps: 6)]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Equal(ExitCodes.Ok, (await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-restore-1")).ExitCode);

        var result = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "restore", "cli-restore-1", "5");

        Assert.Equal(ExitCodes.NotFound, result.ExitCode);
        Assert.Contains("at step '5' not found", result.Error);
        Assert.Contains("Committed checkpoints are at steps 3, 6", result.Error);
    }
}
