using Cluster.Client.Cli;
using Cluster.Client.Commands;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

/// <summary><c>top</c> rendered from canned views: which node runs which job, sorting, and the bare (no headers) table.</summary>
public sealed class TopTests
{
    private static readonly DateTimeOffset s_at = new(2026, 12, 2, 6, 10, 39, TimeSpan.Zero);

    private static NodeView Node(string id, double p99, long memory, double age, params string[] stages) =>
        new(id, id.Split('/')[0], "cpu", "Ready", p99 / 10, p99, memory, 1L << 34, 10, s_at, age, false, id.EndsWith('1'), false, null, 0, null, stages);

    private static TopView View(TopCommand.SortKey key)
    {
        NodeView[] nodes = [Node("gpu-01/cpu0", 40, 100, 0.5, "a/s0"), Node("gpu-01/cpu1", 90, 300, 3.0, "b/r1/s0", "a/s1"), Node("gpu-02/cpu0", 60, 200, 0.1)];
        var job = JobView.From(new JobStatus { JobId = "a", State = JobState.Running, CompletedSteps = 5, TotalSteps = 10, Team = "research" });
        return TopCommand.Build(s_at, nodes, [job], key);
    }

    [Fact]
    public void Stages_name_their_job_with_or_without_a_replica()
    {
        Assert.Equal("a", TopCommand.JobOfStage("a/s1"));
        Assert.Equal("b", TopCommand.JobOfStage("b/r1/s0"));
    }

    [Fact]
    public void Top_shows_each_node_with_its_jobs_and_the_jobs_with_the_nodes_they_use()
    {
        var console = new TestConsole().Width(140);
        console.Write(TopCommand.Render(View(TopCommand.SortKey.P99), TableOptions.Default, TopCommand.SortKey.P99));

        string screen = console.Output;
        Assert.Contains("3 node(s), 1 unfinished job(s), by p99", screen);
        var nodeLines = screen.Split('\n').Where(l => l.Contains("gpu-0", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["gpu-01/cpu1", "gpu-02/cpu0", "gpu-01/cpu0"], nodeLines.Select(l => l.Split('│', StringSplitOptions.TrimEntries)[1]));
        Assert.Contains("b a", nodeLines[0]); // both jobs' stages on gpu-01/cpu1
        Assert.Contains("draining", nodeLines[0]);
        var jobLine = screen.Split('\n').Single(l => l.Contains("research", StringComparison.Ordinal));
        Assert.Equal("2", jobLine.Split('│', StringSplitOptions.TrimEntries)[^2]); // job a runs on two nodes now
    }

    [Fact]
    public void Without_headers_top_is_bare_node_rows()
    {
        var console = new TestConsole().Width(140);
        console.Write(TopCommand.Render(View(TopCommand.SortKey.Node), new TableOptions(NoHeaders: true), TopCommand.SortKey.Node));

        var lines = console.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("gpu-01/cpu0", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("│", console.Output);
    }
}
