using Cluster.Client.Matching;
using Cluster.Client.Rendering;
using Cluster.Client.Views;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Spectre.Console.Testing;

namespace Cluster.Client.Tests;

public sealed class RenderingTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 28, 20, 11, 58, 825, TimeSpan.Zero);

    [Fact]
    public void Watch_screen_shows_progress_throughput_loss_chart_and_events()
    {
        var state = new WatchState("demo-1");
        state.Apply(new JobStatus { JobId = "demo-1", State = JobState.Running, CompletedSteps = 0, TotalSteps = 40 });
        for (int step = 1; step <= 20; step++)
            state.Apply(new ProgressView("demo-1", JobState.Running, 0, step, 40, 5.5 - step * 0.1, 4812, 12.0, s_at, null));
        state.Apply(new EventView(s_at, ClusterEventKind.JobRecovering, "demo-1", null, 1, 12, 0, 0.0, "failure at step 12"));
        var console = new TestConsole().Width(100);

        console.Write(WatchView.Render(state, 100));

        string screen = console.Output;
        Assert.Contains("job demo-1", screen);
        Assert.Contains("Running", screen);
        Assert.Contains("20/40 50%", screen);
        Assert.Contains("ETA 12s", screen);
        Assert.Contains("tokens/s 4,812", screen);
        Assert.Contains("5.400 ┤", screen); // the chart's top label: the first (highest) loss
        Assert.Contains("JobRecovering (+0.00 s): failure at step 12", screen);
        Assert.Equal(20, state.Losses.Count);
    }

    [Fact]
    public void A_rewind_drops_the_losses_after_the_step_it_went_back_to()
    {
        var state = new WatchState("j");
        for (int step = 1; step <= 10; step++)
            state.Apply(new ProgressView("j", JobState.Running, 0, step, 20, step, 1, null, s_at, null));
        state.Apply(new ProgressView("j", JobState.Running, 1, 7, 20, null, 1, null, s_at, "restored"));
        state.Apply(new ProgressView("j", JobState.Running, 1, 8, 20, 80, 1, null, s_at, null));

        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 80], state.Losses);
        Assert.Equal(8, state.Step);
    }

    [Fact]
    public void Watch_exit_codes_follow_the_final_state()
    {
        Assert.Equal(0, Commands.JobWatchCommand.ExitCode(JobState.Completed));
        Assert.Equal(5, Commands.JobWatchCommand.ExitCode(JobState.Failed));
        Assert.Equal(6, Commands.JobWatchCommand.ExitCode(JobState.Cancelled));
    }

    [Fact]
    public void Loss_chart_and_sparkline_scale_between_lowest_and_highest()
    {
        Assert.Equal("▁▅█", Sparkline.Of([1.0, 1.5, 2.0], 10));
        Assert.Equal(5, Sparkline.Of([.. Enumerable.Range(0, 100).Select(i => (double)i)], 5).Length);
        string chart = LossChart.Render([3.0, 2.0, 1.0], 10, 2);
        string[] rows = chart.Split('\n');
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("3.000 ┤", rows[0]);
        Assert.StartsWith("1.000 ┤", rows[1]);
        Assert.Equal("(no steps yet)", LossChart.Render([], 10, 2));
    }

    [Fact]
    public void Close_matches_rank_by_edit_distance()
    {
        Assert.Equal(3, CloseMatches.Distance("kitten", "sitting"));
        Assert.Equal(1, CloseMatches.Distance("jbos", "jobs")); // a swap of neighbours is one slip
        Assert.Equal(["demo-1", "demo-2"], CloseMatches.Find("demo-l", ["demo-1", "demo-2", "other-job"], 2));
        Assert.Equal(["gpu-host-7/cuda0"], CloseMatches.Find("host-7", ["gpu-host-7/cuda0", "gpu-host-8/cuda1x"]));
        Assert.Empty(CloseMatches.Find("zzz", ["demo-1"]));
    }

    [Fact]
    public void A_failed_preemption_is_its_own_kind_shown_in_red_unlike_a_preemption()
    {
        var failed = new EventView(s_at, ClusterEventKind.PreemptionFailed, "low", null, 2, 0, 0, null,
            "job low could not checkpoint to free its nodes for job high (storage unavailable): it keeps them and tries again; the scheduler no longer waits for it");
        Assert.StartsWith("[red]", EventLine.Markup(failed), StringComparison.Ordinal);
        Assert.Contains("[bold]PreemptionFailed[/]", EventLine.Markup(failed), StringComparison.Ordinal);
        Assert.StartsWith("[yellow]", EventLine.Markup(failed with { Kind = ClusterEventKind.JobPreempted }), StringComparison.Ordinal);
        Assert.Equal(26, (int)ClusterEventKind.PreemptionFailed); // sent and stored: appended, never renumbered
    }

    [Fact]
    public void Job_and_node_tables_render_their_rows()
    {
        var console = new TestConsole().Width(200);
        var job = JobView.From(new JobStatus { JobId = "j1", State = JobState.Failed, CompletedSteps = 3, TotalSteps = 10, Error = "boom" });
        console.Write(JobsRenderer.Render([job]));
        console.Write(JobsRenderer.Line("cancelled", job));
        Assert.Contains("j1", console.Output);
        Assert.Contains("3/10", console.Output);
        Assert.Contains("30%", console.Output);
        Assert.Contains("boom", console.Output);

        var empty = new TestConsole();
        empty.Write(NodesRenderer.Render([]));
        Assert.Contains("No node has registered", empty.Output);
    }
}
