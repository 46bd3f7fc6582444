using Cluster.Client.Specs;

namespace Cluster.Client.Tests;

/// <summary><c>job submit --min-replicas/--max-replicas</c>: the obvious mistakes are refused before connecting, naming the option and the fix.</summary>
public sealed class ReplicaOptionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private static async Task<ConsoleResult> SubmitOffline(params string[] args)
    {
        await using var harness = new ConsoleHarness(_ => throw new InvalidOperationException("the replica range is checked before connecting"));
        return await harness.RunAsync(["job", "submit", .. TinySpecs.Flags("cli-replica-option"), .. args]);
    }

    [Theory]
    [InlineData("--min-replicas", "0")]
    [InlineData("--max-replicas", "-2")]
    public async Task A_count_below_one_is_refused_naming_the_option(string option, string value)
    {
        var result = await SubmitOffline(option, value, "--json");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains($"{option} {value} is below 1", result.Error);
        Assert.Contains("give 1 or more", result.Error);
        Assert.Equal("usage", result.Json().GetProperty("error").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_minimum_above_the_maximum_is_refused_with_the_fix()
    {
        var both = await SubmitOffline("--min-replicas", "3", "--max-replicas", "2");
        Assert.Equal(ExitCodes.Usage, both.ExitCode);
        Assert.Contains("--min-replicas 3 exceeds --max-replicas 2", both.Error);
        Assert.Contains("give --max-replicas 3 (or more)", both.Error);

        // Alone, a minimum above 1 exceeds the default maximum: the message says where the 1 came from.
        var minOnly = await SubmitOffline("--min-replicas", "2");
        Assert.Equal(ExitCodes.Usage, minOnly.ExitCode);
        Assert.Contains("--min-replicas 2 exceeds maxReplicas = 1 (the default)", minOnly.Error);
    }

    [Fact]
    public async Task A_spec_file_range_is_checked_with_the_file_named_and_flags_win()
    {
        string spec = _folder.File("replicas.json");
        await File.WriteAllTextAsync(spec, TinySpecs.Json("cli-replica-file").Replace("\"steps\": 6", "\"steps\": 6, \"minReplicas\": 4, \"maxReplicas\": 2"));

        await using var harness = new ConsoleHarness(_ => throw new InvalidOperationException("the replica range is checked before connecting"));
        var result = await harness.RunAsync("job", "submit", spec);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains($"{spec}: minReplicas = 4 exceeds {spec}: maxReplicas = 2", result.Error);

        var parsed = JobSpecFile.Load(spec);
        Assert.Equal((4, 2), (parsed.MinReplicas, parsed.MaxReplicas));
    }

    public void Dispose() => _folder.Dispose();
}
