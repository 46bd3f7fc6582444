using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

/// <summary>Changes of the job's visible state: the one transition function, and the phases' entries that free or keep resources.</summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>How a transition reaches storage before it is published.</summary>
    private enum Persist
    {
        /// <summary>Not written for itself (a transient display state such as Checkpointing; the next write carries it).</summary>
        None,

        /// <summary>Handed to the writer, written in the background (per-step and outage states: a down store never holds the job up).</summary>
        Background,

        /// <summary>Durable before anything else happens (a new epoch, paused, finished: others act on it).</summary>
        Durable,
    }

    /// <summary>
    /// The only code that sets <see cref="JobGrainState.State"/>. Order, always: state and error set → handed to the
    /// writer (<see cref="Persist.Durable"/>: written) → progress published (unless <paramref name="publish"/> is false).
    /// </summary>
    private async Task Transition(JobState state, string? error, Persist persist, string? progress, bool publish = true)
    {
        S.State = state;
        S.Error = error;
        if (persist == Persist.Durable) await _writer.Flush();
        else if (persist == Persist.Background) _writer.Request();
        if (publish) await Publish(progress);
    }

    /// <summary>
    /// Frees the job's nodes and waits in <see cref="JobState.Paused"/>; its last checkpoint (<paramref name="checkpoint"/>,
    /// committed for the pause; null when nothing was placed) is the resume point. The mailbox took the pause before.
    /// </summary>
    private async Task<JobPhase> EnterPaused(JobSpec spec, ReplicaStages stages, CheckpointManifest? checkpoint)
    {
        await ReleaseStages(stages);
        await _scheduler.Call(s => s.Release(spec.JobId));
        await Transition(JobState.Paused, null, Persist.Durable, _narrator.PausedText());
        LogPaused(logger, spec.JobId, S.CompletedSteps);
        await _narrator.Paused();
        _mailbox.PausedNow(Status(), checkpoint);
        return new JobPhase.Paused();
    }

    /// <summary>Shows the job as waiting for storage, with a one-line reason (the details go to the log).</summary>
    private async Task EnterWaitingForStorage(string reason, Exception? exception)
    {
        bool entering = S.State != JobState.WaitingForStorage;
        await Transition(JobState.WaitingForStorage, reason, Persist.Background, reason, publish: entering);
        LogWaitingForStorage(logger, exception, this.GetPrimaryKeyString(), S.CompletedSteps, reason);
        if (entering)
            await _narrator.WaitingForStorage(reason);
    }

    /// <summary>
    /// Ends the job. The terminal state is durable before the job lets go of its nodes and says so (the writer retries
    /// through an outage); failures to release are logged, never thrown (the state is already terminal).
    /// </summary>
    private async Task Finish(JobState state, string? error)
    {
        await Transition(state, error, Persist.Durable, error);
        _mailbox.Ended(Status(), $"job {this.GetPrimaryKeyString()} finished ({state}) at step {S.CompletedSteps}.");
        _recoveryTrace.JobEnded(state, error, time.GetUtcNow()); // a recovery cut short by the end is closed and exported
        await ReleaseStages(_placed);
        await ReleaseSnapshotHolders();
        try
        {
            await _scheduler.Call(s => s.Release(this.GetPrimaryKeyString()));
            await Registry.Remove(this.GetPrimaryKeyString());
        }
        catch (Exception e)
        {
            LogReleaseNodesFailed(logger, e, this.GetPrimaryKeyString());
        }
        _keepAlive?.Dispose();
        _keepAlive = null;
        LogFinished(logger, this.GetPrimaryKeyString(), state, S.CompletedSteps, _writer.Losses.Count > 0 ? _writer.Losses[^1] : double.NaN);
    }

    /// <summary>
    /// A finished job's snapshot holders drop their copies (each holds two of its stage's state) rather than keep that
    /// host memory until the runtime collects them idle: nothing resumes a finished job from memory. Called after the
    /// stages are released, each of which returns only once no copy of its is on its way to a holder any more
    /// (<c>PipelineStageGrain.SettleSendsAtRelease</c>); a copy later than that (a stage whose release stopped waiting,
    /// or failed) is refused by the released holder, which stays long enough for it (<c>CheckpointShardGrain</c>'s
    /// "release is final"). Failures are logged.
    /// </summary>
    private async Task ReleaseSnapshotHolders()
    {
        if (S.Spec is not { } spec) return;
        long epoch = S.Epoch;
        await Task.WhenAll(Enumerable.Range(0, spec.Stages).SelectMany(s => SnapshotHolders.Keys(spec.JobId, s, spec.SnapshotReplicas))
            .Select(async key =>
            {
                try
                {
                    await GrainFactory.GetGrain<ICheckpointShardGrain>(key).Release(epoch);
                }
                catch (Exception e)
                {
                    LogReleaseFailed(logger, e, this.GetPrimaryKeyString());
                }
            }));
    }

    private Task ReleaseStages(ReplicaStages stages) => ReleaseStages(stages.All, (stage, epoch) => stage.Release(epoch));

    /// <summary>Calls <paramref name="release"/> (a stage's Release or ReleaseDevice) on every stage, at the current epoch; failures are logged.</summary>
    private async Task ReleaseStages(IEnumerable<IPipelineStageGrain> stages, Func<IPipelineStageGrain, long, Task> release)
    {
        long epoch = S.Epoch;
        await Task.WhenAll(stages.Select(async s =>
        {
            try
            {
                await release(s, epoch);
            }
            catch (Exception e)
            {
                LogReleaseFailed(logger, e, this.GetPrimaryKeyString());
            }
        }));
    }
}
