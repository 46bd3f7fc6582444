using System.Text.Json;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Tests;

[Collection(ConsoleClusterCollection.Name)]
public sealed class JobCommandTests(ConsoleClusterFixture fixture) : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Submit_from_a_file_then_watch_show_list_and_checkpoints()
    {
        string spec = _folder.File("tiny.json");
        await File.WriteAllTextAsync(spec, TinySpecs.Json("cli-file-1"));

        var submitted = await ConsoleHarness.RunAsync(fixture.Client, "job", "submit", spec, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Equal("cli-file-1", submitted.Json().GetProperty("jobId").GetString());
        Assert.Equal(6, submitted.Json().GetProperty("totalSteps").GetInt64());

        var watched = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-file-1");
        Assert.True(watched.ExitCode == 0, watched.ToString());
        Assert.Contains("Completed", watched.Out);
        Assert.Contains("6/6", watched.Out);
        Assert.Contains("┤", watched.Out); // the loss chart of the final screen

        var shown = await ConsoleHarness.RunAsync(fixture.Client, "job", "show", "cli-file-1", "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        var detail = shown.Json();
        Assert.Equal("Completed", detail.GetProperty("job").GetProperty("state").GetString());
        Assert.Equal(6, detail.GetProperty("job").GetProperty("completedSteps").GetInt64());
        Assert.Equal(1.0, detail.GetProperty("job").GetProperty("progress").GetDouble());
        Assert.Equal(32, detail.GetProperty("spec").GetProperty("model").GetProperty("dModel").GetInt32());
        Assert.Equal(6, detail.GetProperty("loss").GetProperty("steps").GetInt32());
        Assert.Equal(6, detail.GetProperty("loss").GetProperty("recent").GetArrayLength());
        Assert.True(detail.GetProperty("loss").GetProperty("last").GetDouble() > 0);

        var rendered = await ConsoleHarness.RunAsync(fixture.Client, "job", "show", "cli-file-1");
        Assert.True(rendered.ExitCode == 0, rendered.ToString());
        Assert.Contains("2 layers × d_model 32", rendered.Out);
        Assert.Contains("lowest", rendered.Out);

        var jobs = await ConsoleHarness.RunAsync(fixture.Client, "jobs", "--json");
        Assert.True(jobs.ExitCode == 0, jobs.ToString());
        Assert.Contains(jobs.Json().EnumerateArray(), j => j.GetProperty("jobId").GetString() == "cli-file-1" && j.GetProperty("state").GetString() == "Completed");
        var jobsTable = await ConsoleHarness.RunAsync(fixture.Client, "jobs");
        Assert.Contains("cli-file-1", jobsTable.Out);

        var checkpoints = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "list", "cli-file-1", "--json");
        Assert.True(checkpoints.ExitCode == 0, checkpoints.ToString());
        var steps = checkpoints.Json().EnumerateArray().Select(c => c.GetProperty("step").GetInt64()).ToArray();
        Assert.Contains(6L, steps); // the last step is always saved
        Assert.All(checkpoints.Json().EnumerateArray(), c => Assert.True(c.GetProperty("shards").GetInt32() > 0));
        var checkpointTable = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "list", "cli-file-1");
        Assert.Contains("checkpoints of cli-file-1", checkpointTable.Out);
    }

    [Fact]
    public async Task Submit_with_flags_and_watch_as_json_lines()
    {
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags("cli-flags-1"), "--json"]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());

        var watched = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-flags-1", "--json");

        Assert.True(watched.ExitCode == 0, watched.ToString());
        var lines = watched.JsonLines();
        var final = lines[^1];
        Assert.Equal("final", final.GetProperty("type").GetString());
        Assert.Equal(0, final.GetProperty("exitCode").GetInt32());
        Assert.Equal("Completed", final.GetProperty("job").GetProperty("state").GetString());
        Assert.Equal(6, final.GetProperty("job").GetProperty("completedSteps").GetInt64());
        Assert.All(lines.SkipLast(1), l => Assert.Contains(l.GetProperty("type").GetString(), new[] { "progress", "event" }));
        var spec = (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", "cli-flags-1", "--json")).Json().GetProperty("spec");
        Assert.Equal(2, spec.GetProperty("model").GetProperty("layers").GetInt32());
        Assert.Equal(16, spec.GetProperty("model").GetProperty("contextLength").GetInt32());
        Assert.Equal(2, spec.GetProperty("microBatches").GetInt32());
    }

    [Fact]
    public async Task Cancel_stops_a_job_and_watch_exits_6()
    {
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags("cli-cancel-1", steps: 5000), "--json"]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());

        var cancelled = await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", "cli-cancel-1", "--json");
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        Assert.Equal("Cancelled", cancelled.Json().GetProperty("state").GetString());

        var watched = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-cancel-1");
        Assert.Equal(ExitCodes.JobCancelled, watched.ExitCode);
        Assert.Contains("Cancelled", watched.Out);
    }

    [Fact]
    public async Task Watch_renders_progress_lines_while_the_job_runs()
    {
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags("cli-lines-1", steps: 12)]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Contains("submitted job cli-lines-1", submitted.Out);

        var watched = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-lines-1");

        Assert.True(watched.ExitCode == 0, watched.ToString());
        Assert.Contains("12/12", watched.Out);
        Assert.Contains("tokens/s", watched.Out);
        Assert.Contains("job cli-lines-1", watched.Out);
    }

    [Fact]
    public async Task Submit_carries_the_replica_range_from_the_file_and_the_flags_to_the_grain()
    {
        string spec = _folder.File("replicas.json");
        await File.WriteAllTextAsync(spec, TinySpecs.Json("cli-replicas-1", steps: 2).Replace("\"steps\": 2", "\"steps\": 2, \"minReplicas\": 2, \"maxReplicas\": 2"));

        // The file asks for exactly 2 replicas; the flag lowers the minimum (2 micro-batches split as 2 × 1 or 1 × 2).
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, "job", "submit", spec, "--min-replicas", "1", "--json");

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var atGrain = await fixture.Client.GetGrain<ITrainingJobGrain>("cli-replicas-1").GetSpec();
        Assert.NotNull(atGrain);
        Assert.Equal((1, 2), (atGrain.MinReplicas, atGrain.MaxReplicas));
        foreach (string field in new[] { "replicas", "minReplicas", "maxReplicas" })
            Assert.True(submitted.Json().TryGetProperty(field, out _), $"submit --json has {field}: {submitted.Raw}");
        var shown = (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", "cli-replicas-1", "--json")).Json().GetProperty("spec");
        Assert.Equal(1, shown.GetProperty("minReplicas").GetInt32());
        Assert.Equal(2, shown.GetProperty("maxReplicas").GetInt32());
        // Let the job finish, so it does not compete for the 2 cores with the tests that follow.
        var watched = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-replicas-1");
        Assert.True(watched.ExitCode == 0, watched.ToString());
        Assert.Contains("replicas", watched.Out);
    }

    public void Dispose() => _folder.Dispose();
}
