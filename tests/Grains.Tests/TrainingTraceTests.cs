using System.Diagnostics;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using static Cluster.Grains.Tests.JobRuns;

namespace Cluster.Grains.Tests;

/// <summary>
/// The training spans an operator's tracing backend receives: each step a trace with the stages' forward/backward
/// calls under it (across grain calls, through Orleans' activity propagation), checkpoint commits, and a recovery as
/// one trace — detected → re-placed → restored → first step — recorded with an in-memory listener.
/// </summary>
public sealed class TrainingTraceTests(TracingClusterFixture fixture) : IClassFixture<TracingClusterFixture>
{
    private static readonly string[] s_sources = [TrainingActivities.SourceName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    [Fact]
    public async Task Steps_hold_their_stage_spans_and_a_recovery_is_one_trace_from_detection_to_the_first_step()
    {
        using var spans = new SpanRecorder(s_sources);
        var spec = TinyJob.Spec("traced", stages: 2, steps: 16, checkpointInterval: 4);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 5 || IsFinished(s), Deadline, "the job to pass step 5");
        Assert.False(IsFinished(running), $"the job finished before the hang could be injected: {running.State}");

        // A hung device on stage 1's node: the node turns unhealthy and the job recovers off it.
        var stage = running.Placement.Single(p => p.Stage == 1);
        var hang = fixture.Cluster.Silos.Single(s => s.Name == stage.SiloName).ServiceProvider.GetRequiredService<ComputeHang>();
        hang.Set(stage.NodeId);
        JobStatus done;
        try
        {
            done = await Finished(job);
        }
        finally
        {
            hang.Clear(stage.NodeId);
        }
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await AssertReferenceTrajectory(job, spec);

        // Steps: each the root of its own trace, with every stage's micro-batch span beneath it and the device work
        // (forward, backward; the last stage's forward+backward) directly under the stage's span.
        var steps = Ours(spans, TrainingActivities.StepName).Where(s => Tag(s, TrainingActivities.JobTag) == spec.JobId).ToArray();
        Assert.True(steps.Length >= spec.Steps, $"{steps.Length} step spans for {spec.Steps} steps");
        Assert.All(steps, s => Assert.Equal(default, s.ParentSpanId));
        Assert.Equal(steps.Length, steps.Select(s => s.TraceId).Distinct().Count());
        var lastStep = steps.MaxBy(s => (long)s.GetTagItem(TrainingActivities.StepTag)!)!;
        var stageSpans = Ours(spans, TrainingActivities.StageMicroBatchName).Where(s => s.TraceId == lastStep.TraceId).ToArray();
        Assert.Equal(spec.MicroBatches * spec.Stages, stageSpans.Length); // every micro-batch through both stages
        Assert.All(stageSpans, s => Assert.True(spans.IsAncestor(lastStep, s), $"stage span {Tag(s, TrainingActivities.StageTag)} is not under the step span"));
        var computes = Ours(spans, TrainingActivities.ForwardName, TrainingActivities.BackwardName, TrainingActivities.ForwardBackwardName)
            .Where(s => s.TraceId == lastStep.TraceId).ToArray();
        Assert.Equal(spec.MicroBatches * 3, computes.Length); // stage 0: forward + backward; stage 1 (last): forward+backward
        Assert.All(computes, c => Assert.Contains(stageSpans, s => s.SpanId == c.ParentSpanId));
        Assert.Contains(Ours(spans, TrainingActivities.CheckpointCommitName), c => Tag(c, TrainingActivities.JobTag) == spec.JobId);

        // The recovery: one span, its three phases as children in order, its milestones as events.
        var recovery = Assert.Single(Ours(spans, TrainingActivities.RecoveryName), r => Tag(r, TrainingActivities.JobTag) == spec.JobId);
        Assert.Equal(ActivityStatusCode.Ok, recovery.Status);
        Assert.Equal(default, recovery.ParentSpanId);
        string[] phaseNames = [TrainingActivities.RecoveryReplaceName, TrainingActivities.RecoveryRestoreName, TrainingActivities.RecoveryFirstStepName];
        var phases = spans.Spans.Where(s => s.ParentSpanId == recovery.SpanId).OrderBy(s => s.StartTimeUtc).ToArray();
        // A failure during the recovery (the first new placement can fail too) re-places again within the same trace.
        Assert.Equal(phaseNames, phases.Select(p => p.OperationName).TakeLast(3));
        Assert.All(phases, p => Assert.Contains(p.OperationName, phaseNames));
        Assert.All(phases, p => Assert.Equal(recovery.TraceId, p.TraceId));
        for (int i = 1; i < phases.Length; i++)
            Assert.Equal(phases[i - 1].StartTimeUtc + phases[i - 1].Duration, phases[i].StartTimeUtc); // back to back: where the seconds went
        Assert.Equal(recovery.StartTimeUtc, phases[0].StartTimeUtc);
        Assert.Equal(recovery.StartTimeUtc + recovery.Duration, phases[^1].StartTimeUtc + phases[^1].Duration);
        string[] milestones = [.. recovery.Events.Select(e => e.Name)];
        Assert.Equal("detected", milestones[0]);
        Assert.Equal(["re-placed", "restored", "first step"], milestones.TakeLast(3));
        Assert.Equal(phases.Length + 1 + milestones.Count(m => m == "failed again"), milestones.Length); // one event per phase, and per failure
    }

    [Fact]
    public async Task A_job_cancelled_mid_recovery_exports_its_recovery_trace_with_an_error_status()
    {
        using var spans = new SpanRecorder(s_sources);
        var scheduler = fixture.Client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        var spec = TinyJob.Spec("traced-cancel", stages: 2, steps: 200, checkpointInterval: 4);
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var running = await Eventually.Value(job.GetStatus, s => s.CompletedSteps >= 3 || IsFinished(s), Deadline, "the job to pass step 3");
        Assert.False(IsFinished(running), $"the job finished before the hang could be injected: {running.State}");

        // Every node cordoned, then stage 1's device hangs: the job starts recovering and cannot be placed again, so
        // it waits for capacity mid-recovery (re-placement never done) until it is cancelled.
        var stage = running.Placement.Single(p => p.Stage == 1);
        var hang = fixture.Cluster.Silos.Single(s => s.Name == stage.SiloName).ServiceProvider.GetRequiredService<ComputeHang>();
        string[] nodes = [.. (await scheduler.GetNodes()).Select(n => n.Capabilities.NodeId)];
        try
        {
            foreach (string node in nodes) await scheduler.Cordon(node);
            hang.Set(stage.NodeId);
            await Eventually.Value(job.GetStatus, s => (s.State == JobState.WaitingForCapacity && s.Epoch > running.Epoch) || IsFinished(s),
                Deadline, "the job to wait for capacity in its recovery");
            Assert.DoesNotContain(Ours(spans, TrainingActivities.RecoveryName), r => Tag(r, TrainingActivities.JobTag) == spec.JobId); // still open
            await job.Cancel("test: cancelled mid-recovery");
            var done = await Finished(job);
            Assert.Equal(JobState.Cancelled, done.State);
        }
        finally
        {
            hang.Clear(stage.NodeId);
            foreach (string node in nodes) await scheduler.Uncordon(node);
        }

        var recovery = Assert.Single(Ours(spans, TrainingActivities.RecoveryName), r => Tag(r, TrainingActivities.JobTag) == spec.JobId);
        Assert.Equal(ActivityStatusCode.Error, recovery.Status);
        Assert.Contains("was cancelled", recovery.StatusDescription, StringComparison.Ordinal);
        Assert.Equal("cancelled", recovery.GetTagItem(RecoveryTrace.OutcomeTag));
        string[] milestones = [.. recovery.Events.Select(e => e.Name)];
        Assert.Equal("detected", milestones[0]);
        Assert.Equal("cancelled", milestones[^1]);
        Assert.DoesNotContain("first step", milestones);
    }

    private static IEnumerable<Activity> Ours(SpanRecorder spans, params string[] names) =>
        spans.Spans.Where(s => s.Source.Name == TrainingActivities.SourceName && names.Contains(s.OperationName));

    private static string? Tag(Activity activity, string key) => activity.GetTagItem(key) as string;
}
