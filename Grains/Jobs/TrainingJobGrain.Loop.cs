using System.Diagnostics;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Cluster.Grains.Scheduling;
using Cluster.Grains.Stages;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Streams;

namespace Cluster.Grains.Jobs;

/// <summary>The driver loop and its phases: supervision, failure handling, waiting for storage, pausing, finishing.</summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>Runs the loop; an exception that escapes it is logged and leaves the loop for the watchdog to restart.</summary>
    private async Task Supervised()
    {
        try
        {
            await RunLoop();
        }
        catch (JobFencedException e)
        {
            LogFenced(logger, this.GetPrimaryKeyString(), e.Message);
            this.DeactivateOnIdle(); // the newer activation owns the job; this one touches nothing more
        }
        catch (Exception e)
        {
            LogLoopDied(logger, e, this.GetPrimaryKeyString());
            S.Error = $"coordinator stopped ({ShortError.Of(e)}); restarting";
        }
    }

    /// <summary>
    /// The driver loop. Invariants: every exception from any await lands in a handler below (storage → waiting for
    /// storage, never a failure; lost nodes and messages → recovery with back-off; causes waiting cannot fix → Failed);
    /// storage errors inside the handlers cannot escape them (state writes go through <see cref="JobStateWriter"/>,
    /// which retries and never throws but when fenced); a fenced activation leaves the loop without another write.
    /// </summary>
    private async Task RunLoop()
    {
        var spec = S.Spec!;
        ReplicaStages stages = ReplicaStages.None;
        int failuresWithoutProgress = 0;
        int storageWaits = 0;
        PlacementRequest? request = null;
        if (_recovery is not null)
            await Narrate(ClusterEventKind.JobRecovering, S.CompletedSteps, 0, Since(), $"the job's coordinator was lost at step {S.CompletedSteps} (epoch {S.Epoch}); recovering");
        while (true)
        {
            try
            {
                if (S.State == JobState.Paused)
                {
                    request = await WaitWhilePaused();
                    if (_cancelRequested) break;
                }
                request ??= RewindRequest();
                stages = await PlaceAndConfigure(spec, request);
                request = null;
                storageWaits = 0;
                if (stages.Count == 0)
                {
                    if (_cancelRequested) break;
                    await EnterPaused(spec, ReplicaStages.None); // paused while waiting for capacity: nothing placed, nothing to save
                    continue;
                }
                var plan = JobSpecs.PlanOf(spec);
                while (S.CompletedSteps < spec.Steps)
                {
                    spec = S.Spec!; // an operator's update (priority, replica maximum) applies from this step on
                    if (_cancelRequested) break;
                    if (_writer.Fenced is { } fenced) throw fenced;
                    request = await AtStepBoundary(spec, plan, stages);
                    if (request is not null || S.State == JobState.Paused) break;
                    if (S.CompletedSteps - _writer.DurableCheckpointStep >= _options.StepsWithoutDurableCheckpointFor(spec.CheckpointInterval))
                    {
                        await WaitForStorage(spec, stages, stateToo: true, visibleAfter: TimeSpan.Zero);
                        continue;
                    }
                    await TrainStep(spec, plan, stages);
                    failuresWithoutProgress = 0;
                    if (_recovery is { } recovered)
                    {
                        _recovery = null;
                        long lostSteps = Math.Max(0, recovered.StepsBefore - (S.CompletedSteps - 1));
                        await Narrate(ClusterEventKind.JobResumed, S.CompletedSteps, lostSteps, (time.GetUtcNow() - recovered.At).TotalSeconds,
                            $"first step after recovery done; {lostSteps} completed step(s) recomputed");
                    }
                    if (IsCheckpointDue(spec, S.CompletedSteps) || _checkpoints.RetryDue)
                    {
                        await Checkpoint(spec, stages);
                        if (spec.ScaleUp == "auto" && S.CompletedSteps < spec.Steps && (request = await ProposeScaleUp(spec, plan, stages)) is not null)
                            break;
                    }
                    else if (spec.SnapshotInterval > 0 && S.CompletedSteps % spec.SnapshotInterval == 0)
                    {
                        await SnapshotInMemory(stages);
                    }
                }
                if (request is not null || (S.State == JobState.Paused && !_cancelRequested)) continue;
                if (!_cancelRequested)
                    await WaitForStorage(spec, stages, stateToo: false, visibleAfter: TimeSpan.FromSeconds(5)); // the final checkpoint commits
                if (_cancelRequested || S.LastCheckpointStep == S.CompletedSteps) break;
            }
            catch (StorageUnavailableException e) when (!_cancelRequested)
            {
                // Storage is unreachable, or lists nothing loadable although steps were committed: waiting fixes it.
                request = null;
                await _checkpoints.Drain();
                await EnterWaitingForStorage(e.Message, e);
                await Backoff.Wait(time, Backoff.Delay(++storageWaits, _options.StorageRetryDelay, _options.StorageRetryMaxDelay), _wake.Task);
                _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            catch (Exception e) when (!_cancelRequested && e is not JobFencedException && IsRecoverable(e) && ++failuresWithoutProgress <= _options.MaxRecoveriesWithoutProgress)
            {
                // A node, a silo or a message was lost. Everything of this epoch is fenced off by the next one; the
                // job re-places (survivors stay), restores the newest state that loads and replays the same data.
                request = null;
                string cause = ShortError.Of(e);
                UnreachableNodes.Report(GrainFactory, ServiceProvider, this.GetPrimaryKeyString(), e, S.Placement); // before it places again
                LogRecovering(logger, e, this.GetPrimaryKeyString(), S.CompletedSteps, failuresWithoutProgress);
                _recovery ??= (time.GetUtcNow(), S.CompletedSteps);
                TrainingMetrics.Recovering(this.GetPrimaryKeyString());
                await Narrate(ClusterEventKind.JobRecovering, S.CompletedSteps, 0, Since(), $"failure at step {S.CompletedSteps}: {cause}; recovering");
                S.State = JobState.Recovering;
                S.Error = $"recovering from: {cause}";
                _writer.Request(); // never throws: the epoch bump of the next placement is what must be durable
                await Publish($"failure at step {S.CompletedSteps}: {cause}; recovering");
                await ApplyCommitted(await _checkpoints.Drain());
                await Backoff.Wait(time, Backoff.Delay(failuresWithoutProgress, _options.RecoveryDelay, _options.RecoveryMaxDelay), _wake.Task);
            }
            catch (Exception e) when (e is not JobFencedException)
            {
                LogFailed(logger, e, this.GetPrimaryKeyString(), S.CompletedSteps);
                await _checkpoints.Drain();
                string why = IsRecoverable(e) && !_cancelRequested
                    ? $"{_options.MaxRecoveriesWithoutProgress} failures without progress, the last: {ShortError.Of(e)}"
                    : ShortError.Of(e);
                await Finish(JobState.Failed, $"failed: {why}", stages);
                return;
            }
        }
        await Finish(_cancelRequested ? JobState.Cancelled : JobState.Completed, null, stages);
    }

    /// <summary>Causes that waiting cannot fix: a spec that is invalid or cannot fit the cluster, data that cannot be read.</summary>
    private static bool IsRecoverable(Exception e) =>
        e is not (JobUnplaceableException or JobSpecInvalidException or InvalidDataException);

    /// <summary>An operator's rewind waiting to be applied (also while the job waited for storage).</summary>
    private PlacementRequest? RewindRequest() => _rewind is { } rewind
        ? new PlacementRequest(null, null, rewind.Manifest, RewindReason(rewind.Manifest, "rewound by an operator"), ClusterEventKind.JobRewound) { InitialWeights = rewind.Manifest is null }
        : null;

    private static string RewindReason(CheckpointManifest? manifest, string who) =>
        manifest is null ? $"{who} to the initial weights" : $"{who} to the checkpoint at step {manifest.Step}";

    /// <summary>Frees the job's nodes and waits in <see cref="JobState.Paused"/>; its last checkpoint is the resume point.</summary>
    private async Task EnterPaused(JobSpec spec, ReplicaStages stages)
    {
        _pauseRequested = false;
        await ReleaseStages(stages);
        await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Release(spec.JobId);
        _resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        S.State = JobState.Paused;
        S.Error = null;
        await _writer.Flush();
        LogPaused(logger, spec.JobId, S.CompletedSteps);
        await Publish($"paused at step {S.CompletedSteps}");
        await Narrate(ClusterEventKind.JobPaused, S.CompletedSteps, 0, null,
            $"paused at step {S.CompletedSteps} (checkpoint at step {S.LastCheckpointStep?.ToString() ?? "none"}); nodes freed");
        foreach (var waiter in _pauseWaiters) waiter.TrySetResult(Status());
        _pauseWaiters.Clear();
    }

    private async Task<PlacementRequest?> WaitWhilePaused()
    {
        await _resumed.Task;
        if (_cancelRequested) return null;
        if (_rewind is { } rewind)
            return new PlacementRequest(null, null, rewind.Manifest, RewindReason(rewind.Manifest, "resumed by an operator, rewound"), ClusterEventKind.JobRewound) { InitialWeights = rewind.Manifest is null };
        return new PlacementRequest(null, null, null, "resumed by an operator", ClusterEventKind.JobUnpaused);
    }

    /// <summary>
    /// Waits, with the stages kept (they hold the live state), until this step's checkpoint is committed — and, with
    /// <paramref name="stateToo"/>, recorded in saved job state. Shown as <see cref="JobState.WaitingForStorage"/>
    /// once the wait lasts <paramref name="visibleAfter"/>; it resumes by itself, retaking the checkpoint after each
    /// back-off. Returns when durable or cancelled; a lost node during the wait ends it like a failed step.
    /// </summary>
    private async Task WaitForStorage(JobSpec spec, ReplicaStages stages, bool stateToo, TimeSpan visibleAfter)
    {
        var started = time.GetUtcNow();
        bool visible = false;
        while (!_cancelRequested)
        {
            await ApplyCommitted(_checkpoints.Collect());
            if (S.LastCheckpointStep == S.CompletedSteps && (!stateToo || _writer.DurableCheckpointStep >= S.CompletedSteps)) break;
            if (_abort.Task.IsCompleted) throw new NodeLostException(_abort.Task.Result);
            if (_writer.Fenced is { } fenced) throw fenced;
            if (_checkpoints.PendingStep < 0 && S.LastCheckpointStep != S.CompletedSteps && (_checkpoints.Problem is null || _checkpoints.RetryDue))
                await Checkpoint(spec, stages);
            if (!visible && time.GetUtcNow() - started >= visibleAfter)
            {
                visible = true;
                long durable = _writer.DurableCheckpointStep;
                await EnterWaitingForStorage(
                    $"waiting for storage: step {S.CompletedSteps} not durable (last durable checkpoint: step {durable}); " +
                    $"{_checkpoints.Problem ?? _writer.Problem ?? "a checkpoint commit is in flight"}; it resumes by itself", null);
            }
            await Backoff.Wait(time, _options.StorageRetryDelay, Task.WhenAny(_wake.Task, _abort.Task, _checkpoints.Settled));
            if (_wake.Task.IsCompleted) _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (!visible) return;
        S.State = JobState.Running;
        S.Error = null;
        _writer.Request();
        double seconds = (time.GetUtcNow() - started).TotalSeconds;
        LogStorageBack(logger, spec.JobId, S.CompletedSteps, seconds);
        await Narrate(ClusterEventKind.StorageReturned, S.CompletedSteps, 0, seconds, $"storage is back: checkpoint at step {S.LastCheckpointStep} committed; training goes on");
        await Publish($"storage is back at step {S.CompletedSteps}");
    }

    /// <summary>Shows the job as waiting for storage, with a one-line reason (the details go to the log).</summary>
    private async Task EnterWaitingForStorage(string reason, Exception? exception)
    {
        bool entering = S.State != JobState.WaitingForStorage;
        S.State = JobState.WaitingForStorage;
        S.Error = reason;
        _writer.Request();
        LogWaitingForStorage(logger, exception, this.GetPrimaryKeyString(), S.CompletedSteps, reason);
        if (!entering) return;
        await Narrate(ClusterEventKind.WaitingForStorage, S.CompletedSteps, 0, null, reason);
        await Publish(reason);
    }

    /// <summary>
    /// Ends the job. The terminal state is durable before the job lets go of its nodes and says so (the writer retries
    /// through an outage); failures to release are logged, never thrown (the state is already terminal).
    /// </summary>
    private async Task Finish(JobState state, string? error, ReplicaStages stages)
    {
        S.State = state;
        S.Error = error;
        await _writer.Flush();
        await Publish(error);
        await ReleaseStages(stages);
        try
        {
            await GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).Release(this.GetPrimaryKeyString());
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

    private async Task ReleaseStages(ReplicaStages stages)
    {
        long epoch = S.Epoch;
        await Task.WhenAll(stages.All.Select(async s =>
        {
            try
            {
                await s.Release(epoch);
            }
            catch (Exception e)
            {
                LogReleaseFailed(logger, e, this.GetPrimaryKeyString());
            }
        }));
    }
}
