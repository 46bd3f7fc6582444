using Cluster.Client.Connection;
using Cluster.Grains.Hosting;

namespace Cluster.Client.Tests;

[Collection(ConsoleClusterCollection.Name)]
public sealed class ErrorTests(ConsoleClusterFixture fixture) : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Unknown_job_is_named_with_close_matches()
    {
        var submitted = await ConsoleHarness.RunAsync(fixture.Client, ["job", "submit", .. TinySpecs.Flags("cli-typo-target", steps: 2)]);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());

        var result = await ConsoleHarness.RunAsync(fixture.Client, "job", "show", "cli-typo-targte", "--json");

        Assert.Equal(ExitCodes.NotFound, result.ExitCode);
        Assert.Contains("Job 'cli-typo-targte' not found", result.Error);
        Assert.Contains("'cli-typo-target'", result.Error);
        var error = result.Json().GetProperty("error");
        Assert.Equal("notFound", error.GetProperty("kind").GetString());
        Assert.Contains("cli-typo-target", error.GetProperty("suggestions").EnumerateArray().Select(s => s.GetString()));
        // Let the job finish, so it does not compete for the 2 cores with the tests that follow.
        Assert.Equal(ExitCodes.Ok, (await ConsoleHarness.RunAsync(fixture.Client, "job", "watch", "cli-typo-target")).ExitCode);
    }

    [Theory]
    [InlineData("watch")]
    [InlineData("cancel")]
    [InlineData("pause")]
    public async Task Every_job_command_refuses_an_unknown_job(string verb)
    {
        var result = await ConsoleHarness.RunAsync(fixture.Client, "job", verb, "no-such-job-anywhere");

        Assert.Equal(ExitCodes.NotFound, result.ExitCode);
        Assert.Contains("'no-such-job-anywhere' not found", result.Error);
    }

    [Fact]
    public async Task Invalid_spec_lists_every_problem_with_the_file_and_field_path()
    {
        string spec = _folder.File("bad.json");
        await File.WriteAllTextAsync(spec, TinySpecs.Json("cli-bad-1").Replace("\"dModel\": 32", "\"dModel\": 30").Replace("\"steps\": 6", "\"steps\": 0"));

        var result = await ConsoleHarness.RunAsync(fixture.Client, "job", "submit", spec, "--json");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains($"{spec}: model.dModel", result.Error);
        Assert.Contains($"{spec}: steps", result.Error);
        var problems = result.Json().GetProperty("error").GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToArray();
        Assert.True(problems.Length >= 2, string.Join("\n", problems));
        Assert.All(problems, p => Assert.StartsWith(spec + ": ", p));
    }

    [Fact]
    public async Task Malformed_and_mistyped_spec_files_name_the_line_and_field()
    {
        string broken = _folder.File("broken.json");
        await File.WriteAllTextAsync(broken, "{\n  \"jobId\": \"x\",\n  \"steps\": ,\n}");
        var malformed = await ConsoleHarness.RunAsync(fixture.Client, "job", "submit", broken);
        Assert.Equal(ExitCodes.Usage, malformed.ExitCode);
        Assert.Contains($"{broken}:3", malformed.Error);

        string typo = _folder.File("typo.json");
        await File.WriteAllTextAsync(typo, TinySpecs.Json("cli-typo-1").Replace("\"dModel\"", "\"dModell\""));
        var mistyped = await ConsoleHarness.RunAsync(fixture.Client, "job", "submit", typo);
        Assert.Equal(ExitCodes.Usage, mistyped.ExitCode);
        Assert.Contains("dModell", mistyped.Error);

        var missing = await ConsoleHarness.RunAsync(fixture.Client, "job", "submit", _folder.File("absent.json"));
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("absent.json", missing.Error);
    }

    [Fact]
    public async Task Bad_usage_exits_2_and_suggests_the_command()
    {
        var typo = await ConsoleHarness.RunAsync(fixture.Client, "jbos");
        Assert.Equal(ExitCodes.Usage, typo.ExitCode);
        Assert.Contains("'jobs'", typo.Error);

        var events = await ConsoleHarness.RunAsync(fixture.Client, "events");
        Assert.Equal(ExitCodes.Usage, events.ExitCode);
        Assert.Contains("--follow", events.Error);

        var restore = await ConsoleHarness.RunAsync(fixture.Client, "checkpoint", "restore", "some-job", "not-a-step", "--json");
        Assert.Equal(ExitCodes.Usage, restore.ExitCode);
        Assert.Equal("usage", restore.Json().GetProperty("error").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Unreachable_cluster_exits_3_naming_the_gateway_and_the_fix()
    {
        int port = LoopbackPorts.Free(1)[0];
        await using var harness = new ConsoleHarness(o => new ClusterConnector(o));

        var result = await harness.RunAsync("status", "--gateway-port", $"{port}", "--connect-timeout", "2", "--json");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", result.Error);
        Assert.Contains("start a silo", result.Error);
        Assert.Equal("unreachable", result.Json().GetProperty("error").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Invalid_connection_settings_exit_2_naming_the_setting()
    {
        await using var harness = new ConsoleHarness(o => new ClusterConnector(o));

        var result = await harness.RunAsync("status", "--gateway", "no-port-here", "--cluster-id", "");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--gateway 'no-port-here' is not host:port", result.Error);
        Assert.Contains("Orleans:ClusterId is empty", result.Error);
    }

    public void Dispose() => _folder.Dispose();
}
