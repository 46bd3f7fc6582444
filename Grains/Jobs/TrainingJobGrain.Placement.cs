using System.Diagnostics;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Cluster.Grains.Stages;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Streams;

namespace Cluster.Grains.Jobs;

/// <summary>Placing the job and restoring its state (the restore planner).</summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>
    /// Takes a new epoch for a placement, claimed by this activation (durable before any stage or store sees it: it
    /// fences every call of the placement, and of two activations that take the same epoch at once only the first durable
    /// claim goes on) and queues the job with the scheduler. A placement without a request after the first one recovers from a failure.
    /// </summary>
    private async Task<PlacementAttempt> BeginPlacement(JobSpec spec, PlacementRequest? request)
    {
        bool recovering = S.Epoch > 0 && request is null; // a failure (else a first placement or an operator's request)
        var started = time.GetUtcNow();
        long countedEpoch = S.Epoch; // the epoch S.CompletedSteps was counted in (see RecoveryPoint)
        _writer.ClaimEpoch();
        S.HandOver = null; // taken (or moot): the claim below supersedes the epoch it was saved in
        _lastSnapshotStep = -1; // stages restored from memory hand their copy to the executor
        _stragglers = new StragglerDetector(options.Value.StragglerFactor, options.Value.StragglerSteps);
        await Transition(recovering ? JobState.Recovering : JobState.Placing, S.Error, Persist.Durable, _narrator.PlacingText(request?.Why, recovering));
        if (_coordinatorLostIn is { } lostEpoch)
        {
            _coordinatorLostIn = null;
            await _narrator.CoordinatorLost(lostEpoch, Since());
        }
        var ticket = new JobTicket(spec.JobId, spec.Priority, spec.Team, S.SubmittedAt ?? started);
        await _scheduler.Call(s => s.Enqueue(ticket));
        return new PlacementAttempt(request, recovering, started, countedEpoch);
    }

    /// <summary>
    /// Asks the scheduler once. Exits: placed → AtBoundary (stages configured and restored); refused → WaitingForCapacity;
    /// a model that cannot fit a healthy cluster → Failed (the user's to fix; lost capacity comes back by itself).
    /// </summary>
    private async Task<JobPhase> Place(JobPhase.Placing placing)
    {
        if (_mailbox.CancelRequested) return new JobPhase.Finished(JobState.Cancelled, null);
        var spec = S.Spec!;
        string jobId = spec.JobId;
        var attempt = placing.Attempt ?? await BeginPlacement(spec, placing.Request ?? _mailbox.RewindRequest("rewound by an operator"));
        var request = attempt.Request;
        var plan = JobSpecs.PlanOf(spec);
        var demands = JobSpecs.Demands(spec, plan);
        var previous = ReplicaStages.NodesOf(S.Placement).Where(r => r.Nodes.Count == plan.StageCount).ToArray();
        var replicaRequest = new ReplicaRequest(demands, request?.Counts ?? JobSpecs.ReplicaCounts(spec), request?.Preferred ?? previous) { Epoch = S.Epoch, MixedDevices = JobSpecs.MixedDevices(spec) };
        var decision = await _scheduler.Call(s => s.PlaceReplicas(jobId, replicaRequest));
        if (!decision.Placed)
        {
            if (!attempt.Recovering && decision.Refusal == PlacementRefusal.CannotFit)
                throw new JobUnplaceableException($"Job {jobId} cannot be placed: {decision.Reason}");
            return new JobPhase.WaitingForCapacity(attempt, decision.Reason ?? "no capacity");
        }
        _mailbox.Placed(); // moves and shrinks asked of the old placement are moot now
        // … but a maximum an operator lowered while the scheduler decided (Update) was dropped with them: ask again.
        if (S.Spec!.MaxReplicas < decision.Replicas.Count) ShrinkToMaximum(S.Spec.MaxReplicas);
        _policy.Placed();
        _placed = await ConfigureAndRestore(spec, plan, attempt, decision, previous);
        // Invariant: a checkpoint that came due at or before the restored step but never committed (the failure cut it
        // short) is retaken at the first step boundary after the recovery.
        int interval = spec.CheckpointInterval;
        bool retake = attempt.Recovering && interval > 0 && S.CompletedSteps / interval * interval > (S.LastCheckpointStep ?? 0);
        return new JobPhase.AtBoundary(_placed, retake);
    }

    /// <summary>
    /// Tells the scheduler that this job's preemption checkpoint failed (it keeps its nodes, trains on and tries again),
    /// so that it asks another job or tells the one waiting why, instead of waiting out its release timeout. Bounded and
    /// best effort: unsent, the request just times out there.
    /// </summary>
    private async Task ReportPreemptionFailed(string jobId, string reason)
    {
        try
        {
            await _scheduler.Call(s => s.PreemptionFailed(jobId, S.Epoch, ShortError.Line(reason))).WaitAsync(TimeSpan.FromSeconds(5), time);
        }
        catch (Exception e)
        {
            LogPreemptionReportFailed(logger, e, jobId);
        }
    }

    /// <summary>
    /// Not enough capacity: shows why, then asks again after a poll period — or pauses or ends on request. The status
    /// always shows the latest reason (a scheduler still warming up, then the team's quota); the history, the saved
    /// state and the progress stream get a reason when the wait begins and when it says something else, not each
    /// poll's newer figures (<see cref="ReasonShape"/>).
    /// </summary>
    private async Task<JobPhase> WaitForCapacity(JobPhase.WaitingForCapacity waiting)
    {
        bool entering = S.State != JobState.WaitingForCapacity;
        string shape = ReasonShape.Of(waiting.Reason);
        if (entering || shape != _capacityReasonShape)
        {
            await Transition(JobState.WaitingForCapacity, waiting.Reason, Persist.Background, JobNarrator.WaitingForCapacityText(waiting.Reason));
            await _narrator.WaitingForCapacity(waiting.Reason, Since());
            _capacityReasonShape = shape;
        }
        else S.Error = waiting.Reason; // newer figures only: shown in the status, not written or published each poll
        if (_mailbox.CancelRequested) return new JobPhase.Finished(JobState.Cancelled, null);
        if (_mailbox.PauseRequested)
        {
            _mailbox.TakePause();
            try
            {
                return await EnterPaused(S.Spec!, ReplicaStages.None, null); // nothing placed, nothing to save
            }
            finally
            {
                _mailbox.PauseDeferred(Status()); // only if it failed: asked again
            }
        }
        // A rewind asked while waiting is placed now, not after the job is placed from its old state first.
        if (_mailbox.RewindRequest("rewound by an operator") is { Rewinding: var rewind } rewinding && rewind != waiting.Attempt.Request?.Rewinding)
            return new JobPhase.Placing(rewinding);
        await _policy.Wait(_options.CapacityPollPeriod, _mailbox);
        return new JobPhase.Placing(waiting.Attempt.Request, waiting.Attempt);
    }

    /// <summary>Configures every stage of the placement the scheduler decided and restores the newest state that loads.</summary>
    private async Task<ReplicaStages> ConfigureAndRestore(JobSpec spec, StagePlan plan, PlacementAttempt attempt, ReplicaPlacement decision, ReplicaNodes[] previous)
    {
        string jobId = spec.JobId;
        var (request, recovering, started, countedEpoch) = attempt;
        var demands = JobSpecs.Demands(spec, plan);
        var previousNode = previous.SelectMany(r => r.Nodes.Select((node, s) => (Key: (r.Replica, s), node))).ToDictionary(x => x.Key, x => x.node);
        int[] unitsPerStage = [.. plan.UnitsPerStage];
        int[] replicaIds = [.. decision.Replicas.Select(r => r.Replica)];
        bool Survived(int replica, int stage, string node) => previousNode.TryGetValue((replica, stage), out var was) && was == node;
        int total = replicaIds.Length * plan.StageCount;
        double[] costByStage = [.. demands.OrderBy(d => d.Stage).Select(d => d.Cost)];
        _stageCosts = [.. Enumerable.Range(0, total).Select(i => costByStage[i % plan.StageCount])]; // rank by rank, like the placement
        int moved = decision.Replicas.Sum(r => r.Nodes.Where((node, s) => !Survived(r.Replica, s, node)).Count());
        S.Placement = [.. decision.Replicas.SelectMany(r => r.Nodes.Select((node, s) =>
        {
            var (start, end) = plan.UnitRange(s);
            string units = $"{ModelLayout.UnitName(plan.Config, start)}…{ModelLayout.UnitName(plan.Config, end - 1)}";
            return new StagePlacement(s, node, NodeIds.SiloOf(node) ?? "?", start, end - start, units, r.Replica);
        }))];
        _abort = NewAbort(); // from here a lost node is one of these (see NodesLost)
        string where = string.Join(", ", S.Placement.Select(p => replicaIds.Length > 1 ? $"r{p.Replica}/s{p.Stage}→{p.NodeId}" : $"s{p.Stage}→{p.NodeId}"));
        if (recovering)
            await _narrator.Replaced(moved, total, where, Since());
        if (previous.Length > 0 && previous.Length != replicaIds.Length)
            await _narrator.ReplicasChanged(previous.Length, replicaIds.Length,
                (request?.Why ?? (recovering ? $"recovering: {S.Error}" : "placed again")) + (decision.Reason is { } fewer ? $"; {fewer}" : ""),
                ReplicaSplit.PerReplica(spec.MicroBatches, replicaIds.Length), spec.MicroBatches, Since());
        // Replicas dropped (a failure, a drain, a shrink) still hold stage grains on live nodes: their device memory
        // is given back now, but a dropped rank 0 may hold the only copy of its stages' state (its holders' lost with a
        // silo), so its grains keep their own copies until the replicas that stay have restored — reading them like a
        // moved replica's (copyHolders, SnapshotPeers below) — and are released when this placement ends, however it ends.
        var dropped = previous.Where(r => !replicaIds.Contains(r.Replica))
            .SelectMany(r => r.Nodes.Select((_, s) => GrainFactory.GetGrain<IPipelineStageGrain>(StageKeys.Stage(jobId, r.Replica, s)))).ToArray();
        await ReleaseStages(dropped, (stage, epoch) => stage.ReleaseDevice(epoch));
        await using var releaseDropped = new AtScopeExit(() => ReleaseStages(dropped, (stage, epoch) => stage.Release(epoch)));
        var stages = ReplicaStages.Of(GrainFactory, jobId, replicaIds, plan.StageCount);
        if (!recovering) await MakeRoomForMovingStages(spec, decision, previousNode);

        // Restore planner — resume from the newest state that loads: an operator's rewind; else the stages' in-memory
        // snapshots (held by their shards on other silos) when a recovery finds them all at one step not older than the
        // last durable checkpoint, chosen without asking the store (recovery from memory works while it is out); else
        // the newest committed checkpoint — a missing or corrupt shard rules its checkpoint out and the one before is
        // tried. Work after the restored step is recomputed, bit for bit. Checkpoints after the current step belong to
        // a timeline an operator rewound away from.
        // Invariant (never silently back to zero): a job that committed step N > 0 starts again from the initial
        // weights only when an operator asks for it (restore step 0); with nothing loadable it waits for storage.
        CheckpointManifest? restore = null;
        // Per stage, the replicas whose grain stayed on its node: they may still hold their own in-memory copies.
        int[][] survivors = [.. Enumerable.Range(0, plan.StageCount).Select(s =>
            decision.Replicas.Where(r => Survived(r.Replica, s, r.Nodes[s])).Select(r => r.Replica).ToArray())];
        long newestDurable = S.LastCheckpointStep ?? 0;
        // Per stage, every replica whose grain may still hold its own copy: the survivors, and those the new placement
        // moves off a live node (a move migrates the stage with its copies; asking one whose silo died just fails).
        int[][] copyHolders = [.. survivors.Select(ids => ids.Union(previous.Select(r => r.Replica)).Order().ToArray())];
        var fromMemory = request is null && recovering && spec.SnapshotInterval > 0
            ? await InMemorySnapshotStep(jobId, copyHolders, survivors, Math.Max(0, newestDurable - 1), countedEpoch)
            : null;
        long? memoryStep = request?.MemoryStep ?? fromMemory?.Step;
        bool configured = false;
        double[]? rewoundLosses = null; // a rewind to a checkpoint of an abandoned timeline: its losses, from the checkpoint
        if (request?.Manifest is { } chosen)
        {
            try
            {
                if (chosen.Step > _writer.Losses.Count) rewoundLosses = await CheckpointLosses.ReadAsync(store, chosen, _writer.EarlierLosses);
                await ConfigureAll(chosen, null);
                (configured, restore, memoryStep) = (true, chosen, null);
                _mailbox.RewindApplied(request, Status() with { CompletedSteps = chosen.Step, LastLoss = chosen.StepLoss });
            }
            catch (CheckpointUnusableException e)
            {
                // The operator's checkpoint does not load: say so, and carry on from the usual choice.
                LogCheckpointRejected(logger, jobId, chosen.Step, e.Shard, e.Message);
                _mailbox.RewindFailed(request, new InvalidOperationException($"The checkpoint at step {chosen.Step} cannot be restored ({e.Shard}): {e.Message}"));
            }
            catch (CheckpointCorruptException e)
            {
                LogCheckpointRejected(logger, jobId, chosen.Step, CheckpointLosses.FileName, e.Message);
                _mailbox.RewindFailed(request, new InvalidOperationException($"The checkpoint at step {chosen.Step} cannot be restored ({CheckpointLosses.FileName}): {e.Message}"));
            }
        }
        else if (request?.InitialWeights == true)
        {
            await ConfigureAll(null, null);
            (configured, memoryStep) = (true, null);
            _mailbox.RewindApplied(request, Status() with { CompletedSteps = 0, LastLoss = null });
        }
        if (!configured && memoryStep is { } candidateStep)
        {
            try
            {
                await ConfigureAll(null, candidateStep);
                configured = true;
            }
            catch (CheckpointUnusableException e)
            {
                LogCheckpointRejected(logger, jobId, candidateStep, e.Shard, e.Message);
                memoryStep = null;
            }
        }
        if (!configured)
        {
            var manifests = (await ListCommitted(jobId)).Where(m => m.Step <= S.CompletedSteps).ToArray();
            for (int candidate = manifests.Length - 1; !configured; candidate--)
            {
                restore = candidate >= 0 ? manifests[candidate] : null;
                if (restore is null && S.LastCheckpointStep is > 0 and long committedStep)
                    throw new StorageUnavailableException(
                        $"the checkpoint store ({store.Description}) holds no loadable checkpoint (committed: {(manifests.Length == 0 ? "none listed" : string.Join(", ", manifests.Select(m => m.Step)))}), " +
                        $"but step {committedStep} was committed; the job waits for it (to start again from the initial weights instead: restore step 0)");
                try
                {
                    await ConfigureAll(restore, null);
                    configured = true;
                }
                catch (CheckpointUnusableException e) when (restore is not null)
                {
                    LogCheckpointRejected(logger, jobId, restore.Step, e.Shard, e.Message);
                    await _narrator.CheckpointRejected(restore.Step, e.Shard, e.Message, Since());
                }
            }
        }
        long restoredStep = memoryStep ?? restore?.Step ?? 0;
        if (memoryStep is not null && fromMemory is { } held && held.Step == memoryStep && held.Losses.Length > 0)
        {
            // Steps counted (or held) after the last save of the job's state: their record is the holders' (see RecoveryPoint).
            foreach (double loss in held.Losses) _writer.AddLoss(loss);
            LogCountTakenFromHolders(logger, jobId, S.CompletedSteps, held.Step);
            S.CompletedSteps = held.Step;
        }
        long lost = S.CompletedSteps - restoredStep;
        S.CompletedSteps = restoredStep;
        _writer.TruncateLosses((int)S.CompletedSteps);
        // Losses this activation no longer has (a rewind to a checkpoint of an abandoned timeline) come from the checkpoint.
        if (_writer.Losses.Count < S.CompletedSteps) _writer.ReplaceLosses(rewoundLosses ?? await CheckpointLosses.ReadAsync(store, restore!, _writer.EarlierLosses));
        // From memory, the durable checkpoint stays what it was (not newer than the restored step); else it is the one restored.
        if (memoryStep is null) S.LastCheckpointStep = restore?.Step;
        if (request is not null)
            await _narrator.PlacedOnRequest(request.Kind, request.Why, lost, (time.GetUtcNow() - (request.Since ?? started)).TotalSeconds, moved, total, where, memoryStep, restore?.Step);
        else if (recovering)
            await _narrator.Restored(lost, Since(), memoryStep, restore?.Step, _memorySnapshots);
        await Transition(JobState.Running, null, Persist.Durable, _narrator.RunningText(moved, lost));
        return stages;

        Task ConfigureAll(CheckpointManifest? manifest, long? fromMemory) =>
            Task.WhenAll(decision.Replicas.SelectMany((replica, rank) => stages.ByRank[rank].Select((stage, s) => ConfigureStage(stage, new StageAssignment
            {
                Job = spec,
                Replica = replica.Replica,
                Stage = s,
                Epoch = S.Epoch,
                NodeId = replica.Nodes[s],
                UnitsPerStage = unitsPerStage,
                RestoreFrom = manifest,
                RestoreFromMemoryStep = fromMemory,
                ReplicaIds = replicaIds,
                // The survivors (their own copies, or the live state they kept), then the replicas that moved with their
                // copies: a rank 0 moved in this recovery (a drain) holds the only copy when its holders lost theirs.
                SnapshotPeers = [.. survivors[s].Concat(copyHolders[s]).Distinct().Where(id => id != replica.Replica).Select(id => StageKeys.Stage(jobId, id, s))],
            }))));
    }

    /// <summary>How many times a configuration lost with the silo it was sent to is sent again (<see cref="ConfigureStage"/>).</summary>
    private const int ConfigureLostToSiloRetries = 5;

    /// <summary>
    /// Configures one stage, asking again while its old activation is leaving its silo (<see cref="StageMisplacedException"/>)
    /// — and when the call was lost with the silo it went to (<see cref="SiloUnavailableException"/>, at most
    /// <see cref="ConfigureLostToSiloRetries"/> times). The second is how a graceful shutdown ends a move: the silo
    /// leaves once its stage has migrated and taken its copies, while the job's next attempt, sent to the address it
    /// still had for the stage, was waiting there to be forwarded — measured in CI: the job recovered although nothing
    /// failed (<c>GracefulShutdownTests</c>). A configuration is safe to send again: it is fenced by the epoch, and of
    /// overlapping ones only the newest takes effect (the stage's invariant). A silo that died instead costs at most
    /// those few retries before the job recovers as it would have: the stage's new node, named in the call, is live or
    /// the call fails for good.
    /// </summary>
    private async Task ConfigureStage(IPipelineStageGrain stage, StageAssignment assignment)
    {
        _watchdog.BeginWarmup(); // the stage's device warms up: its first steps may be slow
        int lostToSilo = 0;
        for (int attempt = 1; ; attempt++)
        {
            RequestContext.Set(PlacementContextKeys.Node, assignment.NodeId);
            Task configure;
            try
            {
                configure = stage.Configure(assignment);
            }
            finally
            {
                RequestContext.Remove(PlacementContextKeys.Node);
            }
            try
            {
                // Ends at once when a node of this placement is reported lost: a call to a silo that died while it was
                // under way may never be answered (one forwarded by a leaving silo to a migration target killed with it
                // in flight waited out the 30 s response timeout, and the leave with it), and the placement is void anyway.
                await Guard(configure);
                return;
            }
            catch (StageMisplacedException) when (attempt < 50)
            {
                // The old activation is leaving its silo; once it has, the next call activates the stage on its node.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 20 * attempt)), time);
            }
            catch (SiloUnavailableException e) when (++lostToSilo <= ConfigureLostToSiloRetries)
            {
                LogConfigureLostToSilo(logger, this.GetPrimaryKeyString(), stage.GetPrimaryKeyString(), lostToSilo, ShortError.Of(e));
                await Task.Delay(TimeSpan.FromMilliseconds(100 * lostToSilo), time);
            }
        }
    }
}
