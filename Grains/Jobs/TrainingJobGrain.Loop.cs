using System.Diagnostics;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Scheduling;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The driver loop: <c>phase = await Next(phase)</c> over the closed set of <see cref="JobPhase"/>s, and each phase's
/// handler (placement's are in <c>.Placement.cs</c>, the boundary's requests in <c>.Boundary.cs</c>).
/// </summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>Runs the loop; an exception that escapes it is logged and leaves the loop for the watchdog to restart.</summary>
    private async Task Supervised()
    {
        try
        {
            await Drive();
        }
        catch (JobFencedException e)
        {
            LogFenced(logger, this.GetPrimaryKeyString(), e.Message);
            _recoveryTrace.Abandon($"fenced: {e.Message}", time.GetUtcNow());
            _mailbox.Abandon($"Job {this.GetPrimaryKeyString()} moved to a newer coordinator while the request waited ({e.Message}): ask again.");
            this.DeactivateOnIdle(); // the newer activation owns the job; this one touches nothing more
        }
        catch (Exception e) when (ActivationLoss.Is(e, _services))
        {
            LogActivationLost(logger, this.GetPrimaryKeyString(), ShortError.Of(e)); // its silo stopped or it was deactivated: the next activation carries on
            _recoveryTrace.Abandon($"activation lost: {ShortError.Of(e)}", time.GetUtcNow());
            _mailbox.Abandon($"Job {this.GetPrimaryKeyString()}'s coordinator stopped while the request waited ({ShortError.Of(e)}): ask again.");
        }
        catch (Exception e)
        {
            LogLoopDied(logger, e, this.GetPrimaryKeyString());
            S.Error = $"coordinator stopped ({ShortError.Of(e)}); restarting";
        }
    }

    /// <summary>
    /// The driver loop. Invariants:
    /// <list type="bullet">
    /// <item>Only the phase handlers, through <see cref="Transition"/>, change <see cref="JobGrainState.State"/>; each
    /// transition is handed to the writer before it is published.</item>
    /// <item>Every exception from any await of a handler lands in a phase (<see cref="Next"/>): storage → waiting for
    /// storage, never a failure; lost nodes and messages → <see cref="JobPhase.Recovering"/>; causes waiting cannot
    /// fix → <see cref="JobPhase.Finished"/> as Failed. Only an activation that no longer owns the job (fenced by a newer
    /// epoch, or invalid: deactivated, its silo stopped and its services disposed, <see cref="ActivationLoss"/>) leaves the
    /// loop early, writing nothing — and one whose silo shuts down, at a step boundary, once it has saved the hand-over
    /// (<see cref="JobPhase.HandedOver"/>, <c>.HandOver.cs</c>).</item>
    /// <item>Failures are counted at most one per back-off: a recovery waits its delay even when its own bookkeeping
    /// fails (<see cref="RecoveryPolicy.Recover"/>), and a request that cut one wait short does not cut the next.</item>
    /// <item>A loop that stops before a terminal phase is restarted by the watchdog (<see cref="EnsureRunning"/>).</item>
    /// </list>
    /// </summary>
    private async Task Drive()
    {
        // The loop outlives the call that started it (Submit, Resume, an activation): its steps and recoveries are
        // traces of their own, not children of that call's finished span.
        System.Diagnostics.Activity.Current = null;
        if (_recovering is not null)
            _coordinatorLostIn = S.Epoch; // narrated by BeginPlacement once this activation's claim is durable
        JobPhase phase = FirstPhase();
        while (phase is not (JobPhase.Finished or JobPhase.HandedOver))
            phase = await Next(phase);
        if (phase is not JobPhase.Finished finished) return; // handed over: the job's next activation carries on
        await Finish(finished.State, finished.Error);
    }

    /// <summary>The one transition function: runs <paramref name="phase"/>'s handler and maps whatever it throws to a phase.</summary>
    private async Task<JobPhase> Next(JobPhase phase)
    {
        try
        {
            if (_writer.Fenced is { } fenced) throw fenced;
            DeclineHandOverIfWaiting(phase);
            return phase switch
            {
                JobPhase.Placing placing => await Place(placing),
                JobPhase.WaitingForCapacity waiting => await WaitForCapacity(waiting),
                JobPhase.AtBoundary boundary => await AtBoundary(boundary.Stages, boundary.RetakeCheckpoint),
                JobPhase.Running running => await Run(running.Stages),
                JobPhase.WaitingForStorage { Cause: { } cause } => await WaitForStorageToList(cause),
                JobPhase.WaitingForStorage waiting => await WaitForStorage(waiting),
                JobPhase.Paused => await WaitWhilePaused(),
                JobPhase.Recovering recovering => await Recover(recovering.Cause),
                _ => throw new UnreachableException($"Job {this.GetPrimaryKeyString()}: no handler for phase {phase}."),
            };
        }
        catch (Exception e) when (e is JobFencedException || ActivationLoss.Is(e, _services))
        {
            throw; // this activation no longer owns the job (fenced, invalid, or its silo stopped): it stops, writing nothing
        }
        catch (StorageUnavailableException e) when (!_mailbox.CancelRequested)
        {
            // Storage is unreachable, or lists nothing loadable although steps were committed: waiting fixes it.
            return new JobPhase.WaitingForStorage(ReplicaStages.None, false, TimeSpan.Zero, e);
        }
        catch (Exception e) when (!_mailbox.CancelRequested && RecoveryPolicy.IsRecoverable(e))
        {
            return new JobPhase.Recovering(e);
        }
        catch (Exception e)
        {
            return await Fail(e, ShortError.Of(e));
        }
    }

    private async Task<JobPhase> Fail(Exception e, string why)
    {
        LogFailed(logger, e, this.GetPrimaryKeyString(), S.CompletedSteps);
        await _checkpoints.Drain();
        return new JobPhase.Finished(JobState.Failed, $"failed: {why}");
    }

    /// <summary>
    /// Between two steps: cancel, the end of training, the mailbox's requests (in its priority), a hand-over when this
    /// activation's silo shuts down, then the limit of steps without a durable checkpoint. Exits: Finished, Placing (a
    /// request places again), Paused, HandedOver, WaitingForStorage, Running.
    /// </summary>
    private async Task<JobPhase> AtBoundary(ReplicaStages stages, bool retakeCheckpoint)
    {
        var spec = S.Spec!;
        if (_mailbox.CancelRequested) return new JobPhase.Finished(JobState.Cancelled, null);
        if (retakeCheckpoint && S.CompletedSteps < spec.Steps)
            await Checkpoint(spec, stages); // cut short by the failure: retaken now, not an interval later
        if (S.CompletedSteps >= spec.Steps)
        {
            return S.LastCheckpointStep == S.CompletedSteps
                ? new JobPhase.Finished(JobState.Completed, null)
                : new JobPhase.WaitingForStorage(stages, StateToo: false, VisibleAfter: TimeSpan.FromSeconds(5)); // the final checkpoint commits
        }
        if (await ServeRequests(spec, JobSpecs.PlanOf(spec), stages) is { } next) return next;
        if (_mailbox.HandOverRequested) return await HandOver(stages);
        if (S.CompletedSteps - _writer.DurableCheckpointStep >= _options.StepsWithoutDurableCheckpointFor(spec.CheckpointInterval))
            return new JobPhase.WaitingForStorage(stages, StateToo: true, VisibleAfter: TimeSpan.Zero);
        return new JobPhase.Running(stages);
    }

    /// <summary>
    /// Steps, each followed by what it makes due: a checkpoint (and a scale-up proposal) or an in-memory snapshot. While
    /// nothing waits at the step boundary, the next step computes while the last one's snapshot is encoded and sent to
    /// its holders — a durable checkpoint's too.
    /// <para>
    /// Invariant (the commit point): a step counts as completed — <c>S.CompletedSteps</c> advanced, progress saved,
    /// status published, its loss recorded as final (<see cref="CountStep"/>) — only once every stage's snapshot of
    /// it is held in <c>SnapshotReplicas</c> failure domains (the stage's silo and its holders', see
    /// <c>CheckpointShardGrain</c>), whenever the spec snapshots that step (every step with the default
    /// <c>SnapshotInterval</c> of 1, and every checkpoint step); and steps count in order. So the state of the last
    /// counted step is always in memory on two silos, and only uncounted steps — at most two: the one whose snapshot
    /// is in flight and the one computing meanwhile — are work a single failure can take: a stage's silo lost after
    /// its update but before its snapshot reached a holder costs no counted step, the job restores the newest step
    /// held everywhere that it counted (the recovery restores past <c>S.CompletedSteps</c> only a step held everywhere
    /// in the counted epoch with every loss before it recorded, <see cref="RecoveryPoint"/>) and recomputes the rest
    /// bit for bit. A durable checkpoint's snapshots are
    /// in-memory snapshots too; when its commit is skipped (one still in flight), the step is snapshotted in memory
    /// instead.
    /// </para>
    /// <para>
    /// Overlap (zero-stall snapshots): after step N's update every stage copies its state on the device and is free
    /// (<c>BeginSnapshot</c>); step N+1 may then start while N's copy is encoded and sent, and N counts once every
    /// stage's copy is held (<c>SnapshotHeld</c>), possibly while N+1 computes. Why the invariant still holds:
    /// (1) N+1's count waits for N's — the loop counts N before it even looks at N+1's result — so counts stay in
    /// order; (2) N+1's snapshot is begun only after N's is held and N counted, so at most one snapshot per stage is in
    /// flight beyond the step computing, and the holders and stages, which keep the two newest copies, still have N's
    /// (the last counted state) while N+1's is in flight; (3) a failure anywhere in that window (N's snapshot not held,
    /// or N+1 failing) leaves <c>S.CompletedSteps</c> at N's or N+1's count, never past the newest state held
    /// everywhere, so the recovery restores a counted state and recomputes only uncounted steps; the step N+1 still
    /// computing is stopped before the recovery starts (its watchdog and calls end with it). A step overlaps only when
    /// the boundary after N would go straight on (<see cref="StraightOn"/>): no request, not the last step; otherwise N
    /// is held and counted before the boundary, as without overlap. A checkpoint step overlaps too: N+1 computes while
    /// N's shards go to their holders (holder 0 writes them to the store in the background, as always), and N's commit
    /// begins once N counted (<see cref="HeldThenCount"/>), so its manifest can only name a counted step; only a
    /// scale-up proposal (<c>ScaleUp</c> "auto") after a checkpoint still waits at the boundary.
    /// </para>
    /// </summary>
    private async Task<JobPhase> Run(ReplicaStages stages)
    {
        var spec = S.Spec!;
        var plan = JobSpecs.PlanOf(spec);
        var done = await TrainStep(spec, plan, stages, S.CompletedSteps, null);
        while (true)
        {
            long step = done.Step + 1; // every stage's executor holds this step's state; the job still counts the one before
            var (held, beforeCheckpoint) = await BeginSnapshots(spec, stages, step, done.Loss); // the device copies only
            bool proposeScaleUp = beforeCheckpoint is not null && spec.ScaleUp == "auto";
            if (proposeScaleUp || !StraightOn(spec, stages, step))
            {
                await HeldThenCount(spec, done, held, beforeCheckpoint);
                if (proposeScaleUp && S.CompletedSteps < spec.Steps && await ProposeScaleUp(spec, plan, stages) is { } scaleUp)
                    return new JobPhase.Placing(scaleUp);
                return new JobPhase.AtBoundary(stages);
            }
            // Step `step` computes while the snapshot of its starting state is encoded, sent and held (and, at a
            // checkpoint, handed to the store's writer).
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var next = TrainStep(spec, plan, stages, step, stop.Task);
            try
            {
                await HeldThenCount(spec, done, held, beforeCheckpoint);
            }
            catch
            {
                stop.TrySetResult(); // the next step ends (its watchdog with it) before the recovery starts
                await next.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default); // stopped, or failed too: the first failure is the one handled
                throw;
            }
            done = await next;
        }
    }

    /// <summary>
    /// Begins what step <paramref name="step"/> makes due: a durable checkpoint's snapshots (unless one is in flight or
    /// committed; returned with the state to go back to once its commit has begun), else an in-memory snapshot when
    /// the spec takes one of this step — every step a checkpoint was due at but skipped too. Returns once every stage
    /// has copied its state off the device.
    /// </summary>
    private async Task<(Task Held, JobState? BeforeCheckpoint)> BeginSnapshots(JobSpec spec, ReplicaStages stages, long step, double loss)
    {
        bool checkpointDue = IsCheckpointDue(spec, step) || _checkpoints.RetryDue;
        if (checkpointDue && await BeginCheckpointSnapshots(stages, step, loss) is { } checkpoint)
            return checkpoint;
        bool snapshots = spec.SnapshotInterval > 0 && (checkpointDue || step % spec.SnapshotInterval == 0);
        return (snapshots ? await BeginSnapshotInMemory(stages, step, loss) : Task.CompletedTask, null);
    }

    /// <summary>
    /// Waits until <paramref name="held"/> (every stage's snapshot of <paramref name="done"/>'s state is held), then counts
    /// the step, then — at a checkpoint — begins its commit.
    /// </summary>
    private async Task HeldThenCount(JobSpec spec, TrainedStep done, Task held, JobState? beforeCheckpoint)
    {
        await Guard(held);
        if (!ReferenceEquals(held, Task.CompletedTask)) _lastSnapshotStep = done.Step + 1;
        await CountStep(spec, done); // the commit point: held first, counted after
        if (beforeCheckpoint is { } before)
            await BeginCommit(spec, done.Step + 1, before); // its shards are with their writers: the manifest follows in the background
        await Counted();
    }

    /// <summary>After a step counted: the recovery policy hears of progress, and a recovery in progress is over.</summary>
    private async Task Counted()
    {
        _policy.Progressed();
        if (_recovering is { } recovered)
        {
            _recovering = null;
            long lostSteps = Math.Max(0, recovered.StepsBefore - (S.CompletedSteps - 1));
            await _narrator.Resumed(lostSteps, (time.GetUtcNow() - recovered.At).TotalSeconds);
        }
    }

    /// <summary>
    /// Whether the step boundary after <paramref name="step"/> counts would go straight on to the next step, doing
    /// nothing (see <see cref="AtBoundary"/> and <c>ServeRequests</c>): then the next step may start before the step is
    /// held and counted. A request that arrives meanwhile is served at the next boundary.
    /// </summary>
    private bool StraightOn(JobSpec spec, ReplicaStages stages, long step) =>
        step < spec.Steps
        && _writer.Fenced is null
        && _mailbox.Pending.Count == 0
        && !_abort.Task.IsCompleted
        && step - _writer.DurableCheckpointStep < _options.StepsWithoutDurableCheckpointFor(spec.CheckpointInterval)
        && (stages.Count >= JobSpecs.ReplicaCounts(spec)[^1] || time.GetUtcNow() - _lastGrowthCheck < options.Value.ReplicaGrowthInterval);

    /// <summary>
    /// A node, a silo or a message was lost. Everything of this epoch is fenced off by the next one; the job re-places
    /// (survivors stay), restores the newest state that loads and replays the same data — unless the recovery policy
    /// says the cause is fatal or the failure budget is spent.
    /// </summary>
    private async Task<JobPhase> Recover(Exception e)
    {
        var decision = _policy.OnFailure(e);
        if (!decision.Recover) return await Fail(e, decision.Reason);
        string jobId = this.GetPrimaryKeyString();
        await _policy.Recover(async () =>
        {
            UnreachableNodes.Report(GrainFactory, ServiceProvider, jobId, e, S.Placement); // before it places again
            LogRecovering(logger, e, jobId, S.CompletedSteps, _policy.FailuresInWindow);
            _recovering ??= (time.GetUtcNow(), S.CompletedSteps);
            TrainingMetrics.Recovering(jobId);
            // In the background: the epoch bump of the next placement is what must be durable.
            await Transition(JobState.Recovering, $"recovering from: {decision.Reason}", Persist.Background, _narrator.RecoveringText(decision.Reason));
            await _narrator.Recovering(decision.Reason, Since());
            await ApplyCommitted(await _checkpoints.Drain());
        }, decision.Delay, _mailbox);
        return new JobPhase.Placing(null);
    }

    /// <summary>Nothing loadable could be listed (storage out, or nothing where steps were committed): shows why, backs off, places again.</summary>
    private async Task<JobPhase> WaitForStorageToList(StorageUnavailableException cause)
    {
        await _checkpoints.Drain();
        await EnterWaitingForStorage(cause.Message, cause);
        await _policy.Wait(_policy.OnStorageUnavailable(), _mailbox);
        return new JobPhase.Placing(null);
    }

    /// <summary>Paused: waits for resume (placing again, with a rewind asked meanwhile) or cancel.</summary>
    private async Task<JobPhase> WaitWhilePaused()
    {
        if (!_mailbox.CancelRequested) await _mailbox.Resumed;
        if (_mailbox.CancelRequested) return new JobPhase.Finished(JobState.Cancelled, null);
        _mailbox.Resuming();
        return new JobPhase.Placing(_mailbox.RewindRequest("resumed by an operator, rewound")
            ?? new PlacementRequest(null, null, null, "resumed by an operator", ClusterEventKind.JobUnpaused));
    }

    /// <summary>
    /// Waits, with the stages kept (they hold the live state), until this step's checkpoint is committed — and, with
    /// <see cref="JobPhase.WaitingForStorage.StateToo"/>, recorded in saved job state. Shown as
    /// <see cref="JobState.WaitingForStorage"/> once the wait lasts its <c>VisibleAfter</c>; it resumes by itself,
    /// retaking the checkpoint after each back-off. A lost node during the wait ends it like a failed step.
    /// </summary>
    private async Task<JobPhase> WaitForStorage(JobPhase.WaitingForStorage wait)
    {
        var spec = S.Spec!;
        var started = time.GetUtcNow();
        bool visible = false;
        while (!_mailbox.CancelRequested)
        {
            await ApplyCommitted(_checkpoints.Collect());
            if (S.LastCheckpointStep == S.CompletedSteps && (!wait.StateToo || _writer.DurableCheckpointStep >= S.CompletedSteps)) break;
            if (_abort.Task.IsCompleted) throw new NodeLostException(_abort.Task.Result);
            if (_writer.Fenced is { } fenced) throw fenced;
            if (_checkpoints.PendingStep < 0 && S.LastCheckpointStep != S.CompletedSteps && (_checkpoints.Problem is null || _checkpoints.RetryDue))
                await Checkpoint(spec, wait.Stages);
            if (!visible && time.GetUtcNow() - started >= wait.VisibleAfter)
            {
                visible = true;
                long durable = _writer.DurableCheckpointStep;
                await EnterWaitingForStorage(
                    _narrator.WaitingForStorageText(durable, _checkpoints.Problem ?? _writer.Problem ?? "a checkpoint commit is in flight"), null);
            }
            await Backoff.Wait(time, _options.StorageRetryDelay, Task.WhenAny(_mailbox.Wake, _abort.Task, _checkpoints.Settled));
            _mailbox.ConsumeWake();
        }
        if (!visible) return new JobPhase.AtBoundary(wait.Stages);
        double seconds = (time.GetUtcNow() - started).TotalSeconds;
        LogStorageBack(logger, spec.JobId, S.CompletedSteps, seconds);
        await Transition(JobState.Running, null, Persist.Background, _narrator.StorageBackText());
        await _narrator.StorageReturned(seconds);
        return new JobPhase.AtBoundary(wait.Stages);
    }
}
