using Cluster.Grains.Jobs;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Grains.Tests;

/// <summary>The job's step watchdog on a fake clock: the bound, the one-shot report, and the call it names.</summary>
public sealed class StepWatchdogTests
{
    private static readonly TimeSpan s_floor = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Before_any_step_finished_the_bound_is_the_floor_and_a_step_past_it_is_reported_once_naming_the_outstanding_call()
    {
        var watchdog = new StepWatchdog(_time, factor: 10, s_floor);
        var reasons = new List<string>();
        using var step = watchdog.Start(7, reasons.Add);
        var never = new TaskCompletionSource<double>();
        _ = step.Track(never.Task, "ApplyUpdate on job/r0/s1");
        Assert.Equal(s_floor, step.Bound);

        _time.Advance(s_floor - TimeSpan.FromMilliseconds(1));
        Assert.Empty(reasons);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var reason = Assert.Single(reasons);
        Assert.Contains("step 7 hung", reason, StringComparison.Ordinal);
        Assert.Contains("ApplyUpdate on job/r0/s1", reason, StringComparison.Ordinal);
        Assert.Contains("floor 2.0 s", reason, StringComparison.Ordinal);
        Assert.True(step.Hung);

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Single(reasons); // once
    }

    [Fact]
    public void The_bound_follows_the_p99_of_recent_steps_once_factor_times_it_exceeds_the_floor()
    {
        var watchdog = new StepWatchdog(_time, factor: 10, s_floor);
        for (int i = 0; i < 20; i++)
            Finish(watchdog, i, TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(10), watchdog.Bound);

        var reasons = new List<string>();
        using var step = watchdog.Start(20, reasons.Add);
        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Empty(reasons);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Contains("p99 step 1000 ms", Assert.Single(reasons), StringComparison.Ordinal);
    }

    [Fact]
    public void Fast_steps_keep_the_floor_and_a_step_that_ends_in_time_is_never_reported()
    {
        var watchdog = new StepWatchdog(_time, factor: 10, s_floor);
        var reasons = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            using var step = watchdog.Start(i, reasons.Add);
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }
        _time.Advance(TimeSpan.FromMinutes(1)); // after the steps ended: their timers are gone
        Assert.Empty(reasons);
        Assert.Equal(50, watchdog.StepTimeP99Ms);
        Assert.Equal(s_floor, watchdog.Bound); // 10 × 50 ms is under the floor
    }

    [Fact]
    public void A_hung_step_does_not_raise_the_bound_of_the_next()
    {
        var watchdog = new StepWatchdog(_time, factor: 10, s_floor);
        Finish(watchdog, 0, TimeSpan.FromMilliseconds(100));
        using (watchdog.Start(1, _ => { }))
            _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(100, watchdog.StepTimeP99Ms);
        Assert.Equal(s_floor, watchdog.Bound);
    }

    [Fact]
    public async Task The_reason_names_the_oldest_call_still_outstanding_and_how_many_more()
    {
        var watchdog = new StepWatchdog(_time, factor: 10, s_floor);
        var reasons = new List<string>();
        using var step = watchdog.Start(3, reasons.Add);
        var first = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var third = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = step.Track(first.Task, "RunMicroBatch 0 on s0");
        _time.Advance(TimeSpan.FromMilliseconds(10));
        _ = step.Track(second.Task, "RunMicroBatch 1 on s0");
        _time.Advance(TimeSpan.FromMilliseconds(10));
        _ = step.Track(third.Task, "GradientSquares on s1");
        Assert.Equal("RunMicroBatch 0 on s0 (and 2 more)", step.Outstanding);

        first.SetResult(1);
        second.SetException(new InvalidOperationException("lost"));
        await Eventually.True(() => Task.FromResult(step.Outstanding == "GradientSquares on s1"), TimeSpan.FromSeconds(10), "finished calls to drop out");
        _time.Advance(s_floor);
        Assert.Contains("waiting for GradientSquares on s1", Assert.Single(reasons), StringComparison.Ordinal);
        third.SetResult(3);
        await Eventually.True(() => Task.FromResult(step.Outstanding is null), TimeSpan.FromSeconds(10), "the last call to drop out");
    }

    [Fact]
    public void After_a_stage_is_configured_its_first_steps_get_the_warm_up_bound_and_a_hang_then_is_still_reported()
    {
        var watchdog = new StepWatchdog(_time, factor: 1, s_floor, warmupSteps: 2, warmupBound: TimeSpan.FromSeconds(10));
        Assert.Equal(s_floor, watchdog.Bound);
        watchdog.BeginWarmup();
        Assert.Equal(TimeSpan.FromSeconds(10), watchdog.Bound);
        Finish(watchdog, 0, TimeSpan.FromSeconds(3)); // a slow first step (past the floor): not a hang
        Assert.Equal(TimeSpan.FromSeconds(10), watchdog.Bound);
        Finish(watchdog, 1, TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromSeconds(3), watchdog.Bound); // warm-up over: max(1 × p99 3 s, floor 2 s)

        watchdog.BeginWarmup(); // a stage moved to another node
        var reasons = new List<string>();
        using var step = watchdog.Start(2, reasons.Add);
        Assert.Equal(TimeSpan.FromSeconds(10), step.Bound);
        _time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(reasons);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Contains("step 2 hung", Assert.Single(reasons), StringComparison.Ordinal);
        // The default keeps the floors' margin over the node's warm-up limit: 2 min + (60 s − 30 s).
        Assert.Equal(TimeSpan.FromSeconds(150), new Hosting.TrainingClusterOptions().StepWatchdogWarmupBound);
    }

    [Fact]
    public void Bad_settings_are_refused_naming_the_argument()
    {
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => new StepWatchdog(_time, 0.5, s_floor)).ParamName);
        Assert.Equal("floor", Assert.Throws<ArgumentOutOfRangeException>(() => new StepWatchdog(_time, 10, TimeSpan.Zero)).ParamName);
    }

    private void Finish(StepWatchdog watchdog, long step, TimeSpan took)
    {
        using var watched = watchdog.Start(step, reason => Assert.Fail($"step {step} reported hung: {reason}"));
        _time.Advance(took);
    }
}
