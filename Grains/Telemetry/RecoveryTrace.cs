using System.Diagnostics;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Telemetry;

/// <summary>
/// One job's recovery as one trace, built from the events the job narrates anyway: <see cref="ClusterEventKind.JobRecovering"/>
/// (detected) opens a <see cref="TrainingActivities.RecoveryName"/> span; <see cref="ClusterEventKind.JobReplaced"/>,
/// <see cref="ClusterEventKind.JobRestored"/> and <see cref="ClusterEventKind.JobResumed"/> (first step done) close its
/// phases — child spans <see cref="TrainingActivities.RecoveryReplaceName"/>, <see cref="TrainingActivities.RecoveryRestoreName"/>
/// and <see cref="TrainingActivities.RecoveryFirstStepName"/> — and the last ends the trace. Each event is also an
/// event on the recovery span, with its message. Timestamps are the events' own (the job's <see cref="TimeProvider"/>).
/// A failure during a recovery adds an event to the same trace; a job paused before its first step ends it with an
/// error status, and so does a job that ends (fails, is cancelled) or whose activation lets go of it mid-recovery
/// (<see cref="JobEnded"/>, <see cref="Abandon"/>: no event says so, the job's driver loop tells it): every recovery
/// span is stopped, so exported. Not thread-safe: one per job activation, used on its turn.
/// </summary>
public sealed class RecoveryTrace
{
    private Activity? _recovery;
    private DateTimeOffset _phaseStarted;

    /// <summary>Whether a recovery is in progress (a span is open).</summary>
    public bool Open => _recovery is not null;

    /// <summary>Records <paramref name="e"/> in the recovery trace when it is one of its milestones; returns it unchanged.</summary>
    public ClusterEvent Observe(ClusterEvent e)
    {
        switch (e.Kind)
        {
            case ClusterEventKind.JobRecovering when _recovery is null:
                Begin(e);
                break;
            case ClusterEventKind.JobRecovering:
                Mark(e, "failed again");
                break;
            case ClusterEventKind.JobReplaced:
                Phase(e, TrainingActivities.RecoveryReplaceName, "re-placed");
                break;
            case ClusterEventKind.JobRestored:
                Phase(e, TrainingActivities.RecoveryRestoreName, "restored");
                break;
            case ClusterEventKind.JobResumed:
                Phase(e, TrainingActivities.RecoveryFirstStepName, "first step");
                End(e, ActivityStatusCode.Ok, null);
                break;
            case ClusterEventKind.JobPaused:
                End(e, ActivityStatusCode.Error, $"the job paused before its first step after the failure: {e.Message}");
                break;
        }
        return e;
    }

    /// <summary>
    /// The job reached <paramref name="state"/> (terminal) at <paramref name="at"/>: an open recovery ends with it —
    /// with an error status unless the job completed — and is exported. Nothing happens when no recovery is open.
    /// </summary>
    public void JobEnded(JobState state, string? error, DateTimeOffset at)
    {
        if (_recovery is null) return;
        string outcome = state.ToString().ToLowerInvariant();
        string milestone = state == JobState.Completed ? "completed" : outcome;
        Close(at, state == JobState.Completed ? ActivityStatusCode.Ok : ActivityStatusCode.Error,
            state == JobState.Completed ? null : $"the job was {outcome} before its first step after the failure{(error is null ? "" : $": {error}")}",
            milestone, outcome, error);
    }

    /// <summary>
    /// This activation lets go of the job mid-recovery (fenced by a newer epoch, deactivated, its silo stopping): the
    /// open recovery ends with an error status naming <paramref name="why"/> and is exported (the next activation, if
    /// any, narrates a recovery of its own).
    /// </summary>
    public void Abandon(string why, DateTimeOffset at)
    {
        if (_recovery is null) return;
        Close(at, ActivityStatusCode.Error, $"the job's coordinator let go of the job before its first step after the failure: {why}",
            "abandoned", "abandoned", why);
    }

    private void Close(DateTimeOffset at, ActivityStatusCode status, string? description, string milestone, string outcome, string? message)
    {
        if (_recovery is not { } recovery) return;
        recovery.SetTag(OutcomeTag, outcome);
        recovery.AddEvent(new ActivityEvent(milestone, Later(at, recovery.StartTimeUtc), new ActivityTagsCollection { ["message"] = message }));
        recovery.SetStatus(status, description);
        TrainingActivities.StopDetached(recovery, Later(at, recovery.StartTimeUtc));
        _recovery = null;
    }

    /// <summary>How a recovery span ended: <c>resumed</c>, <c>paused</c>, or the job's terminal state (<c>failed</c>, <c>cancelled</c>…), or <c>abandoned</c>.</summary>
    public const string OutcomeTag = "cluster.recovery.outcome";

    private void Begin(ClusterEvent e)
    {
        // A trace of its own, whatever call the job's loop runs under; it outlives this turn, so never the ambient span.
        _recovery = TrainingActivities.StartDetached(TrainingActivities.RecoveryName, default, e.At);
        if (_recovery is null) return;
        _recovery.SetTag(TrainingActivities.JobTag, e.JobId);
        _recovery.SetTag(TrainingActivities.EpochTag, e.Epoch);
        _recovery.SetTag(TrainingActivities.StepTag, e.Step);
        _phaseStarted = e.At;
        Mark(e, "detected");
    }

    private void Phase(ClusterEvent e, string name, string milestone)
    {
        if (_recovery is not { } recovery) return;
        if (TrainingActivities.StartDetached(name, recovery.Context, _phaseStarted) is { } phase)
        {
            phase.SetTag(TrainingActivities.EpochTag, e.Epoch);
            phase.SetTag(TrainingActivities.StepTag, e.Step);
            TrainingActivities.StopDetached(phase, Later(e.At, _phaseStarted));
        }
        _phaseStarted = Later(e.At, _phaseStarted);
        Mark(e, milestone);
    }

    private void Mark(ClusterEvent e, string milestone) =>
        _recovery?.AddEvent(new ActivityEvent(milestone, e.At, new ActivityTagsCollection
        {
            ["cluster.event"] = e.Kind.ToString(),
            [TrainingActivities.EpochTag] = e.Epoch,
            [TrainingActivities.StepTag] = e.Step,
            ["cluster.steps_lost"] = e.StepsLost,
            ["message"] = e.Message,
        }));

    private void End(ClusterEvent e, ActivityStatusCode status, string? description)
    {
        if (_recovery is not { } recovery) return;
        if (status == ActivityStatusCode.Error) Mark(e, "stopped");
        recovery.SetTag(OutcomeTag, status == ActivityStatusCode.Ok ? "resumed" : "paused");
        recovery.SetStatus(status, description);
        TrainingActivities.StopDetached(recovery, Later(e.At, recovery.StartTimeUtc));
        _recovery = null;
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
