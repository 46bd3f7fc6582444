using System.Text.Json;

namespace Cluster.Client.Tests;

/// <summary>Multi-job scheduling from the console: priority and team on submit, <c>queue</c>, <c>quota set|show</c>, preemption in <c>job watch</c>.</summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class SchedulingCommandTests(ConsoleClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task A_job_over_its_quota_waits_in_the_queue_until_the_quota_is_lifted()
    {
        const string team = "cli-quota-team";
        const string jobId = "cli-quota-1";
        try
        {
            var set = await ConsoleHarness.RunAsync(fixture.Client, "quota", "set", team, "1", "--json");
            Assert.True(set.ExitCode == 0, set.ToString());
            Assert.Equal(team, set.Json().GetProperty("team").GetString());
            Assert.Equal(1, set.Json().GetProperty("maxNodes").GetInt32());

            var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags(jobId), "--priority", "5", "--team", team, "--json"]);
            Assert.True(submitted.ExitCode == 0, submitted.ToString());
            Assert.Equal(5, submitted.Json().GetProperty("priority").GetInt32());
            Assert.Equal(team, submitted.Json().GetProperty("team").GetString());

            JsonElement entry = default;
            await Eventually.True(async () =>
            {
                var queue = await ConsoleHarness.RunAsync(fixture.Client, "queue", "--json");
                Assert.True(queue.ExitCode == 0, queue.ToString());
                var found = queue.Json().EnumerateArray().Where(q => q.GetProperty("jobId").GetString() == jobId).ToArray();
                if (found.Length == 1) entry = found[0].Clone();
                return found.Length == 1;
            }, Deadline, $"{jobId} in the queue");
            Assert.Equal(team, entry.GetProperty("team").GetString());
            Assert.Equal(5, entry.GetProperty("priority").GetInt32());
            Assert.Equal(2, entry.GetProperty("nodesNeeded").GetInt32());
            Assert.True(entry.GetProperty("position").GetInt32() >= 1);
            Assert.Contains($"Team '{team}' quota is 1 node(s)", entry.GetProperty("reason").GetString());

            var table = await ConsoleHarness.RunAsync(fixture.Client, "queue");
            Assert.Contains(jobId, table.Out);
            Assert.Contains("nodes needed", table.Out);

            var quotas = await ConsoleHarness.RunAsync(fixture.Client, "quota", "show", "--json");
            Assert.True(quotas.ExitCode == 0, quotas.ToString());
            Assert.Contains(quotas.Json().EnumerateArray(), q => q.GetProperty("team").GetString() == team && q.GetProperty("maxNodes").GetInt32() == 1);
            Assert.Contains(team, (await ConsoleHarness.RunAsync(fixture.Client, "quota", "show")).Out);

            var jobs = await ConsoleHarness.RunAsync(fixture.Client, "jobs", "--json");
            var job = jobs.Json().EnumerateArray().Single(j => j.GetProperty("jobId").GetString() == jobId);
            Assert.Equal("WaitingForCapacity", job.GetProperty("state").GetString());
            Assert.Equal(5, job.GetProperty("priority").GetInt32());
            Assert.Contains(team, (await ConsoleHarness.RunAsync(fixture.Client, "jobs")).Out);
            Assert.Contains($"priority 5, team {team}", (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", jobId)).Out);

            var lifted = await ConsoleHarness.RunAsync(fixture.Client, "quota", "set", team, "none");
            Assert.True(lifted.ExitCode == 0, lifted.ToString());
            Assert.Contains($"team {team}: no quota", lifted.Out);

            var watched = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", jobId);
            Assert.True(watched.ExitCode == 0, watched.ToString());
        }
        finally
        {
            await ConsoleHarness.RunAsync(fixture.Client, "quota", "set", team, "none");
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", jobId);
        }
        var after = await ConsoleHarness.RunAsync(fixture.Client, "quota", "show", "--json");
        Assert.DoesNotContain(after.Json().EnumerateArray(), q => q.GetProperty("team").GetString() == team && q.GetProperty("maxNodes").ValueKind != JsonValueKind.Null);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("-1")]
    [InlineData("2.5")]
    public async Task Quota_set_refuses_a_limit_that_is_not_a_node_count(string limit)
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "quota", "set", "cli-bad-quota", limit, "--json");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains($"maxNodes '{limit}' is not a node count", result.Error);
        Assert.Contains("'none' to lift", result.Error);
        Assert.Equal("usage", result.Json().GetProperty("error").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Priority_and_team_in_a_spec_file_reach_the_job()
    {
        string spec = _folder.File("prio.json");
        await File.WriteAllTextAsync(spec, TinySpecs.Json("cli-spec-prio-1").Replace("\"stages\": 2,", "\"stages\": 2, \"priority\": 7, \"team\": \"research\",", StringComparison.Ordinal));

        var submitted = await ConsoleHarness.RunAsync(fixture.Client, "job", "submit", spec, "--json");

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Equal(7, submitted.Json().GetProperty("priority").GetInt32());
        Assert.Equal("research", submitted.Json().GetProperty("team").GetString());
        var shown = (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", "cli-spec-prio-1", "--json")).Json();
        Assert.Equal(7, shown.GetProperty("spec").GetProperty("priority").GetInt32());
        Assert.Equal("research", shown.GetProperty("spec").GetProperty("team").GetString());
        Assert.Equal(0, (await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-spec-prio-1")).ExitCode);
    }

    [Fact]
    public async Task Watch_shows_a_running_job_being_preempted_by_a_higher_priority_one()
    {
        const string low = "cli-preempt-low";
        const string high = "cli-preempt-high";
        // The low-priority job takes every node of the fixture (2 silos × 2 slots), so the high one must preempt it.
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. Flags(low, stages: 4, steps: 5000), "--team", "batch"]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        using var stop = new CancellationTokenSource();
        await using var harness = new ConsoleHarness(fixture.Client);
        Task<ConsoleResult>? watch = null;
        try
        {
            await Eventually.True(async () =>
            {
                var job = (await ConsoleHarness.RunAsync(fixture.Client, "job", "show", low, "--json")).Json().GetProperty("job");
                return job.GetProperty("state").GetString() == "Running" && job.GetProperty("completedSteps").GetInt64() >= 1;
            }, Deadline, $"{low} to run");
            watch = harness.RunAsync(stop.Token, "job", "watch", low, "--json");
            await Eventually.True(() => Task.FromResult(harness.RawSoFar().Contains("\"type\":\"progress\"", StringComparison.Ordinal)), Deadline, "the watch to print progress");

            var highSubmitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. Flags(high, stages: 2, steps: 4), "--priority", "10", "--team", "prod"]);
            Assert.True(highSubmitted.ExitCode == 0, highSubmitted.ToString());

            await Eventually.True(() => Task.FromResult(harness.RawSoFar().Contains("\"kind\":\"JobPreempted\"", StringComparison.Ordinal)), Deadline,
                $"job watch {low} to print the JobPreempted event");
            var preempted = harness.RawSoFar().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement)
                .First(e => e.GetProperty("type").GetString() == "event" && e.GetProperty("kind").GetString() == "JobPreempted");
            Assert.Equal(low, preempted.GetProperty("jobId").GetString());
            Assert.Contains(high, preempted.GetProperty("message").GetString());
            Assert.Equal(0, (await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", high)).ExitCode);
        }
        finally
        {
            await stop.CancelAsync();
            if (watch is not null) await watch;
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", low);
            await ConsoleHarness.RunAsync(fixture.Client, "job", "cancel", high);
        }
    }

    private static string[] Flags(string jobId, int stages, int steps) =>
        ["--id", jobId, "--steps", $"{steps}", "--stages", $"{stages}", "--layers", "4", "--d-model", "32", "--heads", "4", "--context", "16",
         "--micro-batches", "2", "--micro-batch-size", "4", "--checkpoint-interval", "0", "--warmup-steps", "1"];

    public void Dispose() => _folder.Dispose();
}
