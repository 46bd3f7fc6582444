using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The one place a job's events and progress leave the activation, and the one place their texts are built
/// (<c>JobNarrator.Messages.cs</c>). Invariants it owns:
/// <list type="bullet">
/// <item>Every event carries the epoch of the job state it narrates (stamped here from the writer's state, never
/// passed in by hand).</item>
/// <item>Only the activation that owns the job publishes: progress is dropped once the writer is fenced; before an
/// event, stored state is re-read (bounded) and a newer epoch there fences this activation and drops the event — so a
/// stale activation (a silo frozen by SIGSTOP and declared dead, then thawed) says nothing.</item>
/// <item>Publishing is best-effort: a failure is logged, never thrown into the driver loop.</item>
/// </list>
/// </summary>
/// <param name="shape">Sees (and may add to) every event just before it is published: the recovery trace observes them.</param>
internal sealed partial class JobNarrator(Grain grain, string jobId, JobStateWriter writer, TimeProvider time, ILogger logger,
    Func<ClusterEvent, ClusterEvent> shape)
{
    /// <summary>How long an ownership check may take before the event goes out on what the activation knows.</summary>
    public static readonly TimeSpan OwnershipCheckTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The job state the writer holds: the step and epoch every message names.</summary>
    private JobGrainState NarratedState => writer.State;

    private string NarratedJob => jobId;

    private DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// Publishes a cluster event of this job, in its current epoch (or <paramref name="inEpoch"/>: an earlier one the
    /// event is about), if this activation still owns the job.
    /// </summary>
    private async Task Event(ClusterEventKind kind, long step, long lostSteps, double? seconds, string message, string? reason = null, string? principal = null, long? inEpoch = null)
    {
        long epoch = inEpoch ?? writer.State.Epoch;
        if (!await writer.StillOwns(OwnershipCheckTimeout))
        {
            LogSilenced(logger, jobId, kind, epoch);
            return;
        }
        try
        {
            await grain.Publish(shape(new ClusterEvent(time.GetUtcNow(), kind, jobId, null, epoch, step, lostSteps, seconds, message) { Reason = reason, Principal = principal }));
        }
        catch (Exception e) when (!ActivationLoss.Is(e))
        {
            LogPublishFailed(logger, e, jobId); // events are best-effort; training and recovery go on
        }
    }

    /// <summary>Publishes the job's progress (its status now and <paramref name="message"/>) unless this activation is fenced.</summary>
    public async Task Progress(JobStatus status, string? message)
    {
        if (writer.Fenced is not null) return;
        try
        {
            var stream = grain.GetStreamProvider(JobStreams.Provider)
                .GetStream<JobProgress>(StreamId.Create(JobStreams.ProgressNamespace, status.JobId));
            await stream.OnNextAsync(new JobProgress(status.JobId, status.State, status.Epoch, status.CompletedSteps, status.TotalSteps,
                status.LastLoss, status.TokensPerSecond, status.Eta, time.GetUtcNow(), message, status.Replicas));
        }
        catch (Exception e)
        {
            LogPublishFailed(logger, e, status.JobId); // progress is best-effort; training goes on
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Job {JobId}: progress could not be published")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId}: {Kind} (epoch {Epoch}) not published: this activation no longer owns the job")]
    private static partial void LogSilenced(ILogger logger, string jobId, ClusterEventKind kind, long epoch);
}
