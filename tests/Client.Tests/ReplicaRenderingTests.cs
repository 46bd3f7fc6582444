using System.Text.Json;
using System.Threading.Channels;
using Cluster.Client.Commands;
using Cluster.Client.Data;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

/// <summary>Data-parallel replicas in <c>jobs</c>, <c>job show</c>, <c>job watch</c> and events, from canned statuses and progress updates.</summary>
public sealed class ReplicaRenderingTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 28, 20, 11, 58, 825, TimeSpan.Zero);

    /// <summary>A running job of 2 stages with <paramref name="replicas"/> replicas (ids 0, 1, …), one node each.</summary>
    private static JobStatus Running(string jobId, int replicas, int min, int max) => new()
    {
        JobId = jobId,
        State = JobState.Running,
        CompletedSteps = 12,
        TotalSteps = 40,
        Placement = [.. Enumerable.Range(0, replicas).SelectMany(r => Enumerable.Range(0, 2).Select(s =>
            new StagePlacement(s, $"silo-{r}/cpu{s}", $"silo-{r}", s, 1, $"{s}", r)))],
        Replicas = replicas,
        MinReplicas = min,
        MaxReplicas = max,
    };

    private static ProgressView Progress(long step, int replicas, long epoch = 0, JobState state = JobState.Running, string? message = null) =>
        new("j", state, epoch, step, 40, 5.0 - step * 0.01, 1000, 30, s_at.AddSeconds(step), message, replicas);

    [Fact]
    public void Jobs_table_shows_running_replicas_with_the_range_of_an_elastic_job()
    {
        var console = new TestConsole().Width(220);

        console.Write(JobsRenderer.Render([JobView.From(Running("elastic-1", 2, 1, 4)), JobView.From(Running("fixed-1", 1, 1, 1))]));

        string[] lines = console.Output.Split('\n');
        Assert.Contains("replicas", lines.Single(l => l.Contains("coordinator", StringComparison.Ordinal)));
        Assert.Contains("2 (1–4)", lines.Single(l => l.Contains("elastic-1", StringComparison.Ordinal)));
        string fixedRow = lines.Single(l => l.Contains("fixed-1", StringComparison.Ordinal));
        Assert.DoesNotContain("(1–1)", fixedRow);
        Assert.Matches(@"│\s+2\s+│\s+1\s+│", fixedRow); // stages 2, replicas 1
    }

    [Fact]
    public void Job_json_has_the_replica_counts_and_counts_each_stage_once()
    {
        var json = JsonDocument.Parse(JsonSerializer.Serialize(JobView.From(Running("elastic-1", 2, 1, 4)), ConsoleJson.Indented)).RootElement;

        Assert.Equal(2, json.GetProperty("replicas").GetInt32());
        Assert.Equal(1, json.GetProperty("minReplicas").GetInt32());
        Assert.Equal(4, json.GetProperty("maxReplicas").GetInt32());
        Assert.Equal(2, json.GetProperty("stages").GetInt32()); // 4 placements: 2 replicas × 2 stages
        Assert.False(json.TryGetProperty("isElastic", out _));
    }

    [Fact]
    public void Job_show_has_a_replicas_line_and_the_placement_grouped_by_replica()
    {
        var status = Running("elastic-1", 2, 1, 4);
        var detail = new JobDetailView(JobView.From(status), new JobSpec { JobId = "elastic-1", MicroBatches = 8, MinReplicas = 1, MaxReplicas = 4 },
            [.. status.Placement.Reverse().Select(PlacementView.From)], LossSummaryView.From([]));
        var console = new TestConsole().Width(160);

        console.Write(JobDetailRenderer.Render(detail));

        string screen = console.Output;
        Assert.Contains("2 running, elastic 1–4, 4 of the 8 micro-batches each", screen);
        string[] rows = [.. screen.Split('\n').Where(l => l.Contains("silo-", StringComparison.Ordinal))];
        Assert.Contains("replica", screen.Split('\n').Single(l => l.Contains("stage", StringComparison.Ordinal) && l.Contains("node", StringComparison.Ordinal)));
        Assert.Equal(4, rows.Length);
        // Replica 0's stages first, then replica 1's; each replica's id on its first row only.
        Assert.Matches(@"│\s+0\s+│\s+0\s+│\s+silo-0/cpu0", rows[0]);
        Assert.Matches(@"│\s+│\s+1\s+│\s+silo-0/cpu1", rows[1]);
        Assert.Matches(@"│\s+1\s+│\s+0\s+│\s+silo-1/cpu0", rows[2]);
        Assert.Matches(@"│\s+│\s+1\s+│\s+silo-1/cpu1", rows[3]);

        var json = JsonDocument.Parse(JsonSerializer.Serialize(detail, ConsoleJson.Indented)).RootElement;
        Assert.Equal([1, 1, 0, 0], json.GetProperty("placement").EnumerateArray().Select(p => p.GetProperty("replica").GetInt32()));
        Assert.Equal(4, json.GetProperty("spec").GetProperty("maxReplicas").GetInt32());
        Assert.Equal(2, json.GetProperty("job").GetProperty("replicas").GetInt32());
    }

    [Fact]
    public void Job_show_of_a_job_of_one_replica_has_no_replica_column()
    {
        var status = Running("single-1", 1, 1, 1);
        var detail = new JobDetailView(JobView.From(status), new JobSpec { JobId = "single-1" }, [.. status.Placement.Select(PlacementView.From)], LossSummaryView.From([]));
        var console = new TestConsole().Width(160);

        console.Write(JobDetailRenderer.Render(detail));

        Assert.Contains("1 running", console.Output);
        Assert.DoesNotContain("elastic", console.Output);
        Assert.DoesNotContain("replica ", console.Output.Split('\n').Single(l => l.Contains("stage", StringComparison.Ordinal) && l.Contains("node", StringComparison.Ordinal)));
    }

    [Fact]
    public void Watch_notes_a_change_of_the_replica_count_between_progress_updates()
    {
        var state = new WatchState("j");
        state.Apply(Running("j", 2, 1, 4) with { CompletedSteps = 10 });

        Assert.Null(state.Apply(Progress(11, 2)));
        var shrink = state.Apply(Progress(12, 1, epoch: 1));
        Assert.Null(state.Apply(Progress(13, 1, epoch: 1)));
        Assert.Null(state.Apply(Progress(13, 0, epoch: 1, state: JobState.Paused))); // holding no nodes is not a change
        Assert.Null(state.Apply(Progress(13, 1, epoch: 2, state: JobState.Running)));  // back with as many as before
        var growth = state.Apply(Progress(20, 2, epoch: 2));
        Assert.Null(state.Apply(Progress(21, 4, epoch: 1))); // an update of an older epoch is ignored

        Assert.Equal(new ReplicaChange(12, 2, 1, s_at.AddSeconds(12)), shrink);
        Assert.Equal(new ReplicaChange(20, 1, 2, s_at.AddSeconds(20)), growth);
        Assert.Equal([shrink!, growth!], state.ReplicaChanges);
        Assert.Equal(2, state.Replicas);

        var console = new TestConsole().Width(120);
        console.Write(WatchView.Render(state, 120));
        Assert.Contains("replicas 2 (1–4)", console.Output);
        Assert.Contains("step 12: replicas 2 → 1", console.Output);
        Assert.Contains("step 20: replicas 1 → 2", console.Output);
    }

    [Fact]
    public async Task Watch_lines_print_each_replica_change_once_and_the_replicas_changed_event()
    {
        await using var harness = new ConsoleHarness(_ => throw new InvalidOperationException("this test never connects"));
        var state = new WatchState("j");
        state.Apply(Running("j", 2, 1, 2) with { CompletedSteps = 10 });
        var updates = Channel.CreateUnbounded<WatchUpdate>();
        foreach (var p in new[] { Progress(11, 2), Progress(12, 2), Progress(12, 1, epoch: 1, message: "node silo-1/cpu0 lost"), Progress(13, 1, epoch: 1) })
            updates.Writer.TryWrite(new WatchUpdate(Progress: p));
        updates.Writer.TryWrite(new WatchUpdate(Event: new EventView(s_at, ClusterEventKind.ReplicasChanged, "j", null, 1, 12, 0, 0.4, "replicas 2 → 1: node silo-1/cpu0 lost")));
        updates.Writer.TryWrite(new WatchUpdate(Progress: Progress(14, 1, epoch: 1, state: JobState.Completed)));
        updates.Writer.Complete();

        await JobWatchCommand.RunLines(harness.Context, state, updates.Reader, CancellationToken.None);

        string output = harness.Out.Output;
        // One log line (the final screen below the log lists the change again, inside its border).
        Assert.Single(output.Split('\n'), l => l.Contains("step 12: replicas 2 → 1", StringComparison.Ordinal) && !l.Contains('│', StringComparison.Ordinal));
        Assert.Contains("  20:12:10.825 step 12: replicas 2 → 1", output);
        Assert.DoesNotContain("replicas 1 → 2", output);
        Assert.Contains("ReplicasChanged (+0.40 s): replicas 2 → 1: node silo-1/cpu0 lost", output);
        Assert.Contains("replicas 1 (1–2)", output); // the final screen
    }

    [Fact]
    public void Replicas_changed_events_render_as_a_decision_worth_a_look()
    {
        string line = EventLine.Markup(new EventView(s_at, ClusterEventKind.ReplicasChanged, "j", null, 3, 40, 0, null, "replicas 1 → 2: grew onto free nodes"));

        Assert.StartsWith("[yellow]![/]", line);
        Assert.Contains("[bold]ReplicasChanged[/]: replicas 1 → 2: grew onto free nodes", line);
    }
}
