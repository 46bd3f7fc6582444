using System.Text.Json;

namespace Cluster.Client.Tests;

/// <summary>Operator actions from the console: node cordon/uncordon/drain, job pause/resume, checkpoint create/restore.</summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class OperatorActionTests(ConsoleClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("cordon")]
    [InlineData("uncordon")]
    [InlineData("drain")]
    public async Task Node_actions_on_an_unknown_node_name_it_and_suggest_close_matches(string verb)
    {
        string[] reason = verb == "uncordon" ? [] : ["--reason", "test"];
        var exposed = await SiloNodes.OfAsync(fixture.Client, "Silo_0"); // Silo_0/cpu0, cpu1 here; cuda0, cuda1 on a GPU machine
        string unknown = exposed[0][..^1] + "9"; // one character off the first
        var result = await ConsoleHarness.RunAsync(fixture.Client, ["node", verb, unknown, "--json", .. reason]);

        Assert.Equal(ExitCodes.NotFound, result.ExitCode);
        Assert.Contains($"Node '{unknown}' not found", result.Error);
        Assert.Contains($"'{exposed[0]}'", result.Error);
        Assert.Contains(exposed[1], result.Json().GetProperty("error").GetProperty("suggestions").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Cordon_and_uncordon_show_in_the_node_list()
    {
        string node = (await SiloNodes.OfAsync(fixture.Client, "Silo_1"))[1];
        try
        {
            var cordoned = await ConsoleHarness.RunAsync(fixture.Client, "node", "cordon", node, "--json");
            Assert.True(cordoned.ExitCode == 0, cordoned.ToString());
            Assert.True(cordoned.Json().GetProperty("cordoned").GetBoolean());

            var listed = await ConsoleHarness.RunAsync(fixture.Client, "nodes");
            Assert.Contains("cordoned", listed.Out);
            var status = await ConsoleHarness.RunAsync(fixture.Client, "status", "--json");
            Assert.Equal(1, status.Json().GetProperty("cordonedNodes").GetInt32());

            var rendered = await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", node);
            Assert.True(rendered.ExitCode == 0, rendered.ToString());
            Assert.Contains($"node {node} uncordoned", rendered.Out);
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", node);
        }
        var after = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json");
        Assert.False(after.Json().EnumerateArray().Single(n => n.GetProperty("nodeId").GetString() == node).GetProperty("cordoned").GetBoolean());
    }

    [Fact]
    public async Task Drain_moves_a_running_stage_off_the_node()
    {
        await Submit("cli-drain-1");
        var running = await RunningPlacement("cli-drain-1");
        string drained = running[1];
        try
        {
            var result = await ConsoleHarness.RunAsync(fixture.Client, "node", "drain", drained, "--json", "--reason", "test drain");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.True(result.Json().GetProperty("draining").GetBoolean());

            await Eventually.True(async () => !(await RunningPlacement("cli-drain-1")).Contains(drained), Deadline, $"the stage to leave {drained}");
            var nodes = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json");
            var node = nodes.Json().EnumerateArray().Single(n => n.GetProperty("nodeId").GetString() == drained);
            Assert.True(node.GetProperty("draining").GetBoolean());
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", drained);
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", "cli-drain-1");
        }
    }

    [Fact]
    public async Task Pause_resume_checkpoint_and_restore_a_running_job()
    {
        await Submit("cli-steer-1");
        try
        {
            await RunningPlacement("cli-steer-1");

            var checkpoint = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "create", "cli-steer-1", "--json");
            Assert.True(checkpoint.ExitCode == 0, checkpoint.ToString());
            long step = checkpoint.Json().GetProperty("step").GetInt64();
            Assert.True(step > 0);
            var listed = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "list", "cli-steer-1", "--json");
            Assert.Contains(step, listed.Json().EnumerateArray().Select(c => c.GetProperty("step").GetInt64()));

            var paused = await ConsoleHarness.RunAsync(fixture.Client, "job", "pause", "cli-steer-1", "--json");
            Assert.True(paused.ExitCode == 0, paused.ToString());
            Assert.Equal("Paused", paused.Json().GetProperty("state").GetString());
            long pausedAt = paused.Json().GetProperty("completedSteps").GetInt64();
            Assert.True(pausedAt >= step);

            var restored = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "restore", "cli-steer-1", $"{step}", "--json");
            Assert.True(restored.ExitCode == 0, restored.ToString()); // a paused job rewinds when it resumes
            Assert.Equal("Paused", restored.Json().GetProperty("state").GetString());

            var resumed = await ConsoleHarness.RunAsync(fixture.Client, "job", "resume", "cli-steer-1");
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
            Assert.Contains("resumed job cli-steer-1", resumed.Out);
            await Eventually.True(async () => (await Show("cli-steer-1")).GetProperty("job").GetProperty("state").GetString() == "Running",
                Deadline, "the resumed job to run");

            // Older checkpoints are pruned as the job goes on (it keeps 3): rewind to the newest one.
            var newest = (await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "list", "cli-steer-1", "--json")).Json().EnumerateArray()
                .Max(c => c.GetProperty("step").GetInt64());
            var rewound = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "restore", "cli-steer-1", $"{newest}", "--json");
            Assert.True(rewound.ExitCode == 0, rewound.ToString());
            Assert.Equal("cli-steer-1", rewound.Json().GetProperty("jobId").GetString());
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", "cli-steer-1");
        }
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

    private async Task Submit(string jobId)
    {
        // Long enough to act on while it runs; every test cancels its job at the end.
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags(jobId, steps: 5000)]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
    }

    private async Task<JsonElement> Show(string jobId)
    {
        var shown = await ConsoleHarness.RunAsync(fixture.Client, "job", "show", jobId, "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        return shown.Json();
    }

    /// <summary>Node per stage once the job runs and has completed a step.</summary>
    private async Task<string[]> RunningPlacement(string jobId)
    {
        JsonElement detail = default;
        await Eventually.True(async () =>
        {
            detail = await Show(jobId);
            var job = detail.GetProperty("job");
            return job.GetProperty("state").GetString() == "Running" && job.GetProperty("completedSteps").GetInt64() >= 2;
        }, Deadline, $"{jobId} to run");
        return [.. detail.GetProperty("placement").EnumerateArray().Select(p => p.GetProperty("nodeId").GetString()!)];
    }
}
