using System.Diagnostics;

namespace Cluster.Grains.Telemetry;

/// <summary>
/// The training cluster's own spans (activity source <see cref="SourceName"/>): one trace per optimizer step with the
/// stages' forward/backward calls under it, one per checkpoint commit, and one per recovery
/// (<see cref="RecoveryTrace"/>). Starting a span costs next to nothing until a listener (the silo's OTLP tracing)
/// subscribes; every method returns null then.
/// </summary>
public static class TrainingActivities
{
    public const string SourceName = "Cluster.Training";

    /// <summary>One optimizer step of a job: every replica's micro-batches, the gradient reduction and the update.</summary>
    public const string StepName = "training.step";

    /// <summary>One stage's part of one micro-batch (its forward, the stages after it, its backward); nested stage by stage.</summary>
    public const string StageMicroBatchName = "stage.micro_batch";

    /// <summary>A stage's forward pass on its device (queue wait included).</summary>
    public const string ForwardName = "stage.forward";

    /// <summary>A stage's backward pass on its device (queue wait included).</summary>
    public const string BackwardName = "stage.backward";

    /// <summary>The last stage's forward, loss and backward: one unit of work on its device.</summary>
    public const string ForwardBackwardName = "stage.forward_backward";

    /// <summary>From the stages' durable shards to a committed manifest.</summary>
    public const string CheckpointCommitName = "checkpoint.commit";

    /// <summary>A recovery, from the failure noticed to the first step after it (its phases are child spans).</summary>
    public const string RecoveryName = "job.recovery";

    /// <summary>Recovery phase: from the failure noticed (back-off included) to the new placement.</summary>
    public const string RecoveryReplaceName = "recovery.re_place";

    /// <summary>Recovery phase: stages configured and their state restored (from memory or a checkpoint).</summary>
    public const string RecoveryRestoreName = "recovery.restore";

    /// <summary>Recovery phase: the first step after the restore (recomputed steps come after it).</summary>
    public const string RecoveryFirstStepName = "recovery.first_step";

    public const string JobTag = "cluster.job";
    public const string EpochTag = "cluster.epoch";
    public const string StepTag = "cluster.step";
    public const string StageTag = "cluster.stage";
    public const string MicroBatchTag = "cluster.micro_batch";
    public const string NodeTag = "cluster.node";

    internal static readonly ActivitySource Source = new(SourceName, "1.0.0");

    /// <summary>
    /// The span of one optimizer step: the root of its own trace (a job's steps are separate traces, not children of
    /// whatever grain call started the job's loop); it is the ambient span of the step, so the stage calls nest under
    /// it. Call it first thing in the step's async method and dispose it when the step ends.
    /// </summary>
    public static Activity? Step(string jobId, long epoch, long step) => NewTrace(StepName, jobId, epoch, step);

    /// <summary>A stage's part of one micro-batch, a child of the caller's span (the step, or the stage before it).</summary>
    public static Activity? StageMicroBatch(string stageKey, long epoch, long step, int microBatch)
    {
        var activity = Source.StartActivity(StageMicroBatchName, ActivityKind.Internal);
        activity?.SetTag(StageTag, stageKey);
        activity?.SetTag(EpochTag, epoch);
        activity?.SetTag(StepTag, step);
        activity?.SetTag(MicroBatchTag, microBatch);
        return activity;
    }

    /// <summary>A stage's compute on its device (<see cref="ForwardName"/>, <see cref="BackwardName"/> or <see cref="ForwardBackwardName"/>).</summary>
    public static Activity? StageCompute(string name, string nodeId, long step, int microBatch)
    {
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        activity?.SetTag(NodeTag, nodeId);
        activity?.SetTag(StepTag, step);
        activity?.SetTag(MicroBatchTag, microBatch);
        return activity;
    }

    /// <summary>
    /// Starts a span that does not become the caller's ambient span (<see cref="Activity.Current"/> is left as it
    /// was): for spans that outlive the turn that starts them. Setting <see cref="Activity.Current"/> back by hand is
    /// not enough — a stopped span cannot be made current again, so the new one would stay ambient.
    /// </summary>
    internal static Activity? StartDetached(string name, ActivityContext parent, DateTimeOffset startTime) =>
        Detached(() => Source.StartActivity(name, ActivityKind.Internal, parent, startTime: startTime));

    /// <summary>Stops <paramref name="activity"/> at <paramref name="endTime"/> without touching the caller's ambient span.</summary>
    internal static void StopDetached(Activity activity, DateTimeOffset endTime) => Detached(() =>
    {
        activity.SetEndTime(endTime.UtcDateTime);
        activity.Stop();
        return activity;
    });

    /// <summary>Runs <paramref name="work"/> on a copy of the execution context: what it does to async-locals stays there.</summary>
    private static Activity? Detached(Func<Activity?> work)
    {
        if (ExecutionContext.Capture() is not { } context) return work(); // flow suppressed: nothing to protect
        Activity? result = null;
        ExecutionContext.Run(context, _ =>
        {
            Activity.Current = null; // a root unless a parent is given
            result = work();
        }, null);
        return result;
    }

    /// <summary>The commit of one checkpoint: its own trace (it runs in the background while training goes on).</summary>
    public static Activity? CheckpointCommit(string jobId, long epoch, long step) => NewTrace(CheckpointCommitName, jobId, epoch, step);

    /// <summary>A span that roots a trace of its own, tagged with the job, epoch and step.</summary>
    private static Activity? NewTrace(string name, string jobId, long epoch, long step)
    {
        if (!Source.HasListeners()) return null;
        Activity.Current = null; // a new trace; called first thing in an async method, so the caller's span is untouched
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        if (activity is null) return null;
        activity.SetTag(JobTag, jobId);
        activity.SetTag(EpochTag, epoch);
        activity.SetTag(StepTag, step);
        return activity;
    }
}
