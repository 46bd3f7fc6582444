using System.Diagnostics;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Telemetry;

namespace Cluster.Grains.Tests;

/// <summary>
/// A recovery that never reaches its first step — the job fails, is cancelled, or its activation lets go of it — still
/// ends as a stopped (so exported) <see cref="TrainingActivities.RecoveryName"/> span with an error status that says
/// why; recorded with the in-memory listener, fed the events the job's narrator publishes.
/// </summary>
public sealed class RecoveryTraceEndingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(JobState.Failed, "failed", "stage s1: model cannot fit")]
    [InlineData(JobState.Cancelled, "cancelled", null)]
    public void A_job_that_ends_mid_recovery_exports_its_recovery_with_an_error_status(JobState state, string outcome, string? error)
    {
        string jobId = $"ended-{outcome}-{Guid.NewGuid():N}";
        using var spans = new SpanRecorder(TrainingActivities.SourceName);
        var trace = new RecoveryTrace();
        trace.Observe(Event(ClusterEventKind.JobRecovering, jobId, T0, "node lost"));
        trace.Observe(Event(ClusterEventKind.JobReplaced, jobId, T0.AddSeconds(2), "re-placed 1 stage"));
        Assert.True(trace.Open);
        Assert.Empty(Recoveries(spans, jobId)); // open: not exported yet

        trace.JobEnded(state, error, T0.AddSeconds(5));

        Assert.False(trace.Open);
        var recovery = Assert.Single(Recoveries(spans, jobId));
        Assert.Equal(ActivityStatusCode.Error, recovery.Status);
        Assert.Contains($"was {outcome}", recovery.StatusDescription, StringComparison.Ordinal);
        if (error is not null) Assert.Contains(error, recovery.StatusDescription, StringComparison.Ordinal);
        Assert.Equal(outcome, recovery.GetTagItem(RecoveryTrace.OutcomeTag));
        Assert.Equal(T0.UtcDateTime, recovery.StartTimeUtc);
        Assert.Equal(TimeSpan.FromSeconds(5), recovery.Duration); // the recovery lasted until the job ended
        Assert.Equal(["detected", "re-placed", outcome], recovery.Events.Select(e => e.Name));
        var phase = Assert.Single(spans.Spans, s => s.ParentSpanId == recovery.SpanId);
        Assert.Equal(TrainingActivities.RecoveryReplaceName, phase.OperationName);
    }

    [Fact]
    public void An_activation_that_lets_go_mid_recovery_exports_it_as_abandoned()
    {
        string jobId = $"abandoned-{Guid.NewGuid():N}";
        using var spans = new SpanRecorder(TrainingActivities.SourceName);
        var trace = new RecoveryTrace();
        trace.Observe(Event(ClusterEventKind.JobRecovering, jobId, T0, "node lost"));

        trace.Abandon("fenced: epoch 4 is newer", T0.AddSeconds(1));

        var recovery = Assert.Single(Recoveries(spans, jobId));
        Assert.Equal(ActivityStatusCode.Error, recovery.Status);
        Assert.Contains("fenced: epoch 4 is newer", recovery.StatusDescription, StringComparison.Ordinal);
        Assert.Equal("abandoned", recovery.GetTagItem(RecoveryTrace.OutcomeTag));
        Assert.False(trace.Open);
    }

    [Fact]
    public void Ending_a_job_with_no_recovery_open_exports_nothing_and_a_finished_recovery_is_not_ended_twice()
    {
        string jobId = $"resumed-{Guid.NewGuid():N}";
        using var spans = new SpanRecorder(TrainingActivities.SourceName);
        var trace = new RecoveryTrace();
        trace.JobEnded(JobState.Failed, "boom", T0);
        Assert.Empty(Recoveries(spans, jobId));

        trace.Observe(Event(ClusterEventKind.JobRecovering, jobId, T0, "node lost"));
        trace.Observe(Event(ClusterEventKind.JobReplaced, jobId, T0.AddSeconds(1), "re-placed"));
        trace.Observe(Event(ClusterEventKind.JobRestored, jobId, T0.AddSeconds(2), "restored"));
        trace.Observe(Event(ClusterEventKind.JobResumed, jobId, T0.AddSeconds(3), "resumed"));
        trace.JobEnded(JobState.Cancelled, null, T0.AddSeconds(9));

        var recovery = Assert.Single(Recoveries(spans, jobId));
        Assert.Equal(ActivityStatusCode.Ok, recovery.Status);
        Assert.Equal("resumed", recovery.GetTagItem(RecoveryTrace.OutcomeTag));
        Assert.Equal(TimeSpan.FromSeconds(3), recovery.Duration);
    }

    private static ClusterEvent Event(ClusterEventKind kind, string jobId, DateTimeOffset at, string message) =>
        new(at, kind, jobId, null, 2, 7, 0, null, message);

    private static Activity[] Recoveries(SpanRecorder spans, string jobId) =>
        [.. spans.Spans.Where(s => s.OperationName == TrainingActivities.RecoveryName && s.GetTagItem(TrainingActivities.JobTag) as string == jobId)];
}
