using System.Text.Json;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Tests;

/// <summary>Output formats, filters, watch, top, whole-silo node actions, timings, losses, clone and dry runs on the in-memory cluster.</summary>
[Collection(ConsoleClusterCollection.Name)]
public sealed class OutputAndFleetTests(ConsoleClusterFixture fixture)
{
    [Fact]
    public async Task Nodes_in_every_format_and_filtered_by_silo_and_state()
    {
        var names = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "-o", "name", "--silo", "Silo_1");
        Assert.True(names.ExitCode == 0, names.ToString());
        var silo0 = await SiloNodes.OfAsync(fixture.Client, "Silo_0"); // as the silos expose them: cpu0, cpu1 here; cuda0, cuda1 on a GPU machine
        var silo1 = await SiloNodes.OfAsync(fixture.Client, "Silo_1");
        Assert.Equal(silo1, names.Raw.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var pattern = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "-o", "json", "--silo", "Silo_*", "--state", "ready");
        Assert.True(pattern.ExitCode == 0, pattern.ToString());
        Assert.True(pattern.Json().GetArrayLength() >= 4);
        Assert.All(pattern.Json().EnumerateArray(), n => Assert.Equal("Ready", n.GetProperty("state").GetString()));
        var none = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json", "--state", "Dead", "--silo", "Silo_0");
        Assert.Equal(0, none.Json().GetArrayLength());

        var yaml = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "-o", "yaml", "--silo", "Silo_0");
        Assert.True(yaml.ExitCode == 0, yaml.ToString());
        Assert.StartsWith($"- nodeId: {silo0[0]}\n  silo: Silo_0\n  device: {await SiloNodes.DeviceOfAsync(fixture.Client, silo0[0])}\n  state: Ready\n", yaml.Raw, StringComparison.Ordinal);
        Assert.Contains("\n  stages: []\n", yaml.Raw, StringComparison.Ordinal);

        var wide = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "-o", "wide");
        Assert.Contains("GFLOP/s", wide.Out);
        Assert.Contains("last error", wide.Out);

        var bare = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--no-headers", "--silo", "Silo_0");
        Assert.True(bare.ExitCode == 0, bare.ToString());
        var lines = bare.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith(silo0[0], lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("│", bare.Out);
        Assert.DoesNotContain("heartbeat", bare.Out);

        var both = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json", "-o", "yaml");
        Assert.Equal(ExitCodes.Usage, both.ExitCode);
        Assert.Contains("--json and -o yaml disagree", both.Error);
        var unknown = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "-o", "xml");
        Assert.Equal(ExitCodes.Usage, unknown.ExitCode);
    }

    [Fact]
    public async Task Watch_prints_a_snapshot_per_interval_until_interrupted_then_exits_0()
    {
        await using var harness = new ConsoleHarness(fixture.Client);
        using var stop = new CancellationTokenSource();
        var run = harness.RunAsync(stop.Token, "nodes", "--watch", "--interval", "0.2", "-o", "json", "--silo", "Silo_0");
        await Eventually.True(() => Task.FromResult(harness.RawSoFar().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 3),
            TimeSpan.FromSeconds(60), "three snapshots of nodes --watch");
        await stop.CancelAsync();
        var result = await run;

        Assert.True(result.ExitCode == 0, result.ToString());
        var snapshots = result.JsonLines();
        Assert.True(snapshots.Count >= 3);
        Assert.All(snapshots, s => Assert.Equal(2, s.GetArrayLength()));
    }

    [Fact]
    public async Task Whole_silo_and_pattern_node_actions_then_unknown_targets()
    {
        var silo1 = await SiloNodes.OfAsync(fixture.Client, "Silo_1"); // as the silo exposes them: cpu0, cpu1 here; cuda0, cuda1 on a GPU machine
        var cordoned = await ConsoleHarness.RunAsync(fixture.Client, "node", "cordon", "Silo_1", "--json");
        try
        {
            Assert.True(cordoned.ExitCode == 0, cordoned.ToString());
            Assert.Equal(silo1, cordoned.Json().EnumerateArray().Select(n => n.GetProperty("nodeId").GetString()));
            Assert.All(cordoned.Json().EnumerateArray(), n => Assert.True(n.GetProperty("cordoned").GetBoolean()));

            var flagged = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json", "--silo", "Silo_1");
            Assert.All(flagged.Json().EnumerateArray(), n => Assert.True(n.GetProperty("cordoned").GetBoolean()));
        }
        finally
        {
            var lifted = await ConsoleHarness.RunAsync(fixture.Client, "node", "uncordon", "Silo_1/*");
            Assert.True(lifted.ExitCode == 0, lifted.ToString());
            foreach (string node in silo1)
                Assert.Contains($"node {node} uncordoned", lifted.Out);
        }
        var after = await ConsoleHarness.RunAsync(fixture.Client, "nodes", "--json", "--silo", "Silo_1");
        Assert.All(after.Json().EnumerateArray(), n => Assert.False(n.GetProperty("cordoned").GetBoolean()));

        var typo = await ConsoleHarness.RunAsync(fixture.Client, "node", "cordon", "Silo_7");
        Assert.Equal(ExitCodes.NotFound, typo.ExitCode);
        Assert.Contains("Did you mean", typo.Error);
        var nothing = await ConsoleHarness.RunAsync(fixture.Client, "node", "drain", "gpu-*", "--reason", "test");
        Assert.Equal(ExitCodes.NotFound, nothing.ExitCode);
        Assert.Contains("No node or silo matches", nothing.Error);
    }

    [Fact]
    public async Task A_finished_job_through_timings_losses_top_jobs_filters_clone_and_dry_run()
    {
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", "--json", "--team", "vision", .. TinySpecs.Flags("cli-views-1")]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var watched = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-views-1", "--json");
        Assert.True(watched.ExitCode == 0, watched.ToString());

        var timings = await ConsoleHarness.RunAsync(fixture.Client, "job", "timings", "cli-views-1", "--json");
        Assert.True(timings.ExitCode == 0, timings.ToString());
        var steps = timings.Json().EnumerateArray().ToArray();
        Assert.NotEmpty(steps);
        Assert.All(steps, t => Assert.True(t.GetProperty("wallMs").GetDouble() > 0));
        // Each step after the first says when it started and how long after the step before's start: what each step costs.
        Assert.All(steps.Skip(1), t => Assert.True(t.GetProperty("startToStartMs").GetDouble() > 0, t.ToString()));
        Assert.All(steps, t => Assert.True(t.GetProperty("startedAt").GetDateTimeOffset() > DateTimeOffset.UnixEpoch, t.ToString()));
        Assert.Equal(6, steps[^1].GetProperty("step").GetInt64());
        var timingTable = await ConsoleHarness.RunAsync(fixture.Client, "job", "timings", "cli-views-1", "--last", "2");
        Assert.Contains("reduce+update ms", timingTable.Out);
        Assert.Contains("start→start ms", timingTable.Out);
        Assert.Contains("2 step(s): wall p50", timingTable.Out);

        var csv = await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", "cli-views-1", "--csv");
        Assert.True(csv.ExitCode == 0, csv.ToString());
        var rows = csv.Raw.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("step,loss", rows[0]);
        Assert.Equal(7, rows.Length);
        var history = await fixture.Client.GetGrain<ITrainingJobGrain>("cli-views-1").GetLossHistory();
        Assert.Equal(history[5], double.Parse(rows[6].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)); // exact, round-trip
        var range = await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", "cli-views-1", "--from", "2", "--to", "5", "--tail", "2", "-o", "json");
        Assert.Equal([4L, 5L], range.Json().EnumerateArray().Select(p => p.GetProperty("step").GetInt64()));
        var badRange = await ConsoleHarness.RunAsync(fixture.Client, "job", "losses", "cli-views-1", "--from", "5", "--to", "2");
        Assert.Equal(ExitCodes.Usage, badRange.ExitCode);

        var vision = await ConsoleHarness.RunAsync(fixture.Client, "jobs", "-o", "name", "--team", "vision", "--state", "Completed");
        Assert.Contains("cli-views-1", vision.Raw.Split('\n'));
        var running = await ConsoleHarness.RunAsync(fixture.Client, "jobs", "-o", "name", "--team", "vision", "--state", "Running", "Failed");
        Assert.DoesNotContain("cli-views-1", running.Raw.Split('\n'));
        var wide = await ConsoleHarness.RunAsync(fixture.Client, "jobs", "-o", "wide", "--team", "vision");
        Assert.Contains("epoch", wide.Out); // a wide-only column (the others wrap at 160 columns)

        var top = await ConsoleHarness.RunAsync(fixture.Client, "top", "--once", "-o", "json", "--sort", "p99");
        Assert.True(top.ExitCode == 0, top.ToString());
        Assert.True(top.Json().GetProperty("nodes").GetArrayLength() >= 4);
        Assert.DoesNotContain(top.Json().GetProperty("jobs").EnumerateArray(), j => j.GetProperty("jobId").GetString() == "cli-views-1"); // finished
        var topTable = await ConsoleHarness.RunAsync(fixture.Client, "top", "--once");
        Assert.Contains("clusterctl top", topTable.Out);
        Assert.Contains((await SiloNodes.OfAsync(fixture.Client, "Silo_0"))[0], topTable.Out);

        var taken = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", "--dry-run", "--json", .. TinySpecs.Flags("cli-views-1")]);
        Assert.Equal(ExitCodes.Usage, taken.ExitCode);
        Assert.False(taken.Json().GetProperty("wouldSubmit").GetBoolean());
        Assert.Contains(taken.Json().GetProperty("checks").EnumerateArray(), c => c.GetProperty("check").GetString() == "job id" && c.GetProperty("outcome").GetString() == "problem");

        var dry = await ConsoleHarness.RunAsync(fixture.Client, "job", "clone", "cli-views-1", "--id", "cli-views-2", "--steps", "4", "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("would submit", dry.Out);
        Assert.Contains("not checked", dry.Out);
        Assert.Null(await fixture.Client.GetGrain<ITrainingJobGrain>("cli-views-2").GetSpec()); // nothing submitted

        var cloned = await ConsoleHarness.RunAsync(fixture.Client, "job", "clone", "cli-views-1", "--id", "cli-views-2", "--steps", "4", "-o", "json");
        Assert.True(cloned.ExitCode == 0, cloned.ToString());
        var spec = await fixture.Client.GetGrain<ITrainingJobGrain>("cli-views-2").GetSpec();
        var original = await fixture.Client.GetGrain<ITrainingJobGrain>("cli-views-1").GetSpec();
        Assert.Equal(original! with { JobId = "cli-views-2", Steps = 4 }, spec);
        var done = await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-views-2", "-o", "json");
        Assert.True(done.ExitCode == 0, done.ToString());
    }

    [Fact]
    public async Task Version_shows_the_client_build_and_the_clusters_silos()
    {
        var version = await ConsoleHarness.RunAsync(fixture.Client, "version", "-o", "json");
        Assert.True(version.ExitCode == 0, version.ToString());
        var json = version.Json();
        Assert.StartsWith("0.2.0", json.GetProperty("client").GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, json.GetProperty("cluster").GetProperty("silos").GetArrayLength());
        // Each silo answers with its own build (version+commit of the cluster code it runs); here all run the same one.
        string build = json.GetProperty("cluster").GetProperty("build").GetString()!;
        Assert.False(string.IsNullOrEmpty(build));
        Assert.NotEqual("mixed", build);
        foreach (var silo in json.GetProperty("cluster").GetProperty("silos").EnumerateArray())
        {
            Assert.Equal(build, silo.GetProperty("build").GetString());
            Assert.False(string.IsNullOrEmpty(silo.GetProperty("version").GetString()));
            Assert.Equal(JsonValueKind.Null, silo.GetProperty("buildError").ValueKind);
        }
        var table = await ConsoleHarness.RunAsync(fixture.Client, "version");
        Assert.Contains($"build {build}", table.Out);
    }
}
