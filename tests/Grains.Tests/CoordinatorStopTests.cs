using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>
/// A job activation whose silo has stopped — and whose services are disposed — while its loop still runs (an
/// in-process kill leaves such a loop behind; so does a silo that stops while a grain's background work goes on) owns
/// nothing any more: whatever fails under it, it must not count failures, fail the job or write its state. Nor does
/// one whose silo is still shutting down: the job's next activation, on a silo that stays, recovers it.
/// </summary>
public sealed class CoordinatorStopTests(CoordinatorStopClusterFixture fixture) : IClassFixture<CoordinatorStopClusterFixture>
{
    /// <summary>The job grain's log events that end its loop, one per way out.</summary>
    private static readonly string[] LoopEnded = ["LogActivationLost", "LogFenced", "LogLoopDied", "LogFinished"];

    [Fact]
    public async Task A_coordinator_left_running_on_a_stopped_silo_writes_nothing_and_the_job_finishes_elsewhere()
    {
        var cluster = fixture.Cluster;
        var spec = TinyJob.Spec("coordinator-stopped", stages: 2, steps: 100, checkpointInterval: 10);
        var (job, victim, _) = await JobRuns.SubmittedOnALosableSilo(fixture, spec, 4); // 100 steps: it still runs when the hold is armed, even on a slow machine
        // The job's next call to a stage is held; its silo is stopped and its host disposed; then the call fails under
        // the activation left behind.
        var jobId = job.GetGrainId();
        fixture.Outgoing.Arm(call => call.SourceId == jobId && call.TargetId.Type.ToString() == "pipelinestage");
        string held = await fixture.Outgoing.Reached.WaitAsync(TimeSpan.FromMinutes(1));
        await cluster.KillSiloAsync(victim); // returns once the silo is stopped and its host (its services) disposed
        fixture.Outgoing.Fail(new SiloUnavailableException($"injected: {held} was lost with the silo that sent it"));

        await Eventually.True(() => Task.FromResult(Said(victim, spec.JobId, LoopEnded).Count > 0), TimeSpan.FromMinutes(1),
            "the stale activation's loop to end");
        Assert.True(Said(victim, spec.JobId, "LogFailed", "LogFinished").Count == 0,
            $"the stale activation failed or finished the job:{Environment.NewLine}{fixture.Logs.Dump(victim)}");

        var done = await Eventually.Value(job.GetStatus, JobRuns.IsFinished, TimeSpan.FromMinutes(4), "the job to be woken on another silo and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }

    [Fact]
    public async Task A_coordinator_whose_silo_is_shutting_down_leaves_the_recovery_to_the_jobs_next_activation()
    {
        var cluster = fixture.Cluster;
        var spec = TinyJob.Spec("coordinator-leaving", stages: 2, steps: 100, checkpointInterval: 10);
        var (job, victim, _) = await JobRuns.SubmittedOnALosableSilo(fixture, spec, 4);
        var jobId = job.GetGrainId();
        fixture.Outgoing.Arm(call => call.SourceId == jobId && call.TargetId.Type.ToString() == "pipelinestage");
        string held = await fixture.Outgoing.Reached.WaitAsync(TimeSpan.FromMinutes(1));
        // A request in flight (a pause, which waits for the step boundary the held call keeps away) keeps the activation
        // valid while its silo shuts down: Orleans lets running requests finish before it deactivates a grain.
        var pause = job.Pause();
        var oracle = victim.SiloHost.Services.GetRequiredService<ISiloStatusOracle>();
        var stopping = cluster.StopSiloAsync(victim); // graceful
        await Eventually.True(() => Task.FromResult(oracle.CurrentStatus != SiloStatus.Active), TimeSpan.FromMinutes(1), "the silo to be shutting down");
        fixture.Outgoing.Fail(new SiloUnavailableException($"injected: {held} failed while its sender's silo was shutting down"));

        await Eventually.True(() => Task.FromResult(Said(victim, spec.JobId, [.. LoopEnded, "LogRecovering"]).Count > 0), TimeSpan.FromMinutes(1),
            "the leaving activation's loop to end (or to start a recovery)");
        Assert.True(Said(victim, spec.JobId, "LogRecovering", "LogFailed", "LogFinished").Count == 0,
            $"the activation on the leaving silo recovered, failed or finished the job:{Environment.NewLine}{fixture.Logs.Dump(victim)}");
        await stopping;
        await Assert.ThrowsAnyAsync<Exception>(() => pause); // abandoned with the loop: "ask again"

        var done = await Eventually.Value(job.GetStatus, JobRuns.IsFinished, TimeSpan.FromMinutes(4), "the job to be woken on another silo and finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
    }

    /// <summary>
    /// What the silo <paramref name="silo"/> logged of job <paramref name="jobId"/> among <paramref name="events"/>.
    /// </summary>
    private IReadOnlyList<SiloLogLines.Line> Said(InProcessSiloHandle silo, string jobId, params string[] events) =>
        [.. fixture.Logs.Of(silo, events).Where(l => l.Message.Contains($"Job {jobId}", StringComparison.Ordinal))];
}
