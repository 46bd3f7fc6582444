using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Placement;
using Cluster.Grains.Scheduling;
using Cluster.Kernels.Model;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

/// <summary>Requests acted on between two steps: rewinds, checkpoints on demand, pauses, preemption, moves, shrink and growth.</summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>
    /// Serves the mailbox's requests between two steps, in its priority (<see cref="BoundaryMailbox"/>): a rewind, a
    /// checkpoint, a pause, a preemption, a shrink, moving stages off drained or straggling nodes, growth. Returns the
    /// next phase (placing again, paused), or null to go on training.
    /// </summary>
    private async Task<JobPhase?> ServeRequests(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        await ApplyCommitted(_checkpoints.Collect());
        if (_mailbox.RewindRequest("rewound by an operator") is { } rewinding)
        {
            await ApplyCommitted(await _checkpoints.Drain());
            return new JobPhase.Placing(rewinding);
        }
        // A checkpoint an operator action needs is retried only once the store's back-off has passed.
        bool storeReady = _checkpoints.Problem is null || _checkpoints.RetryDue;
        if (_mailbox.HasCheckpointWaiters)
        {
            var waiters = _mailbox.TakeCheckpointWaiters();
            try
            {
                var manifest = await CheckpointAndCommit(spec, stages);
                foreach (var waiter in waiters) waiter.TrySetResult(manifest);
                await _narrator.CheckpointCommittedOnRequest(manifest.Step);
            }
            catch (Exception e)
            {
                foreach (var waiter in waiters) waiter.TrySetException(new InvalidOperationException($"The checkpoint at step {S.CompletedSteps} failed: {ShortError.Of(e)}", e));
                if (e is not StorageUnavailableException) throw; // a storage outage only defers it: training goes on
            }
        }
        if (_mailbox.PauseRequested && storeReady)
        {
            // Pausing frees the nodes, so it needs a committed checkpoint; while storage is out the request waits.
            _mailbox.TakePause();
            try
            {
                if (await CheckpointOrDefer(spec, stages, "pausing") is not { } pauseCheckpoint) return null;
                return await EnterPaused(spec, stages, pauseCheckpoint);
            }
            finally
            {
                _mailbox.PauseDeferred(Status()); // not paused (deferred, or a failure the loop handles): asked again; paused: nothing to do
            }
        }
        if (_mailbox.PreemptedBecause is { } preempted && storeReady)
        {
            // Give the nodes back with nothing to lose: commit this step, free the nodes, then wait for capacity
            // like any queued job; placing again restores this checkpoint. While storage is out the request waits.
            // A failed checkpoint keeps the nodes (training goes on) and is retried; the scheduler hears of it at once.
            if (await CheckpointOrDefer(spec, stages, "preemption", why => ReportPreemptionFailed(spec.JobId, why)) is not { } manifest) return null;
            _mailbox.Preempted();
            await ReleaseStages(stages);
            await _scheduler.Call(s => s.Release(spec.JobId));
            S.Placement = [];
            LogPreempted(logger, spec.JobId, S.CompletedSteps, preempted);
            await _narrator.Preempted(preempted, manifest.Step);
            return new JobPhase.Placing(new PlacementRequest(null, null, null, $"resumed after being {preempted}", ClusterEventKind.JobUnpaused));
        }
        if (_mailbox.TakeShrink() is { } shrink && await PlanShrink(spec, plan, stages, shrink.Replicas, shrink.Reason) is { } shrinking)
            return new JobPhase.Placing(shrinking);
        if (_mailbox.HasMoves)
            return await PlanMove(spec, plan, stages, _mailbox.TakeMoves()) is { } moving ? new JobPhase.Placing(moving) : null;
        return await ProposeMoreReplicas(spec, plan, stages) is { } growing ? new JobPhase.Placing(growing) : null;
    }

    /// <summary>
    /// Drain or straggler: asks for a placement that keeps every stage but those on <paramref name="moveOff"/> where it
    /// is; the moving stages restore from this step's in-memory snapshot, so no step is lost. With nowhere to go the
    /// job keeps its placement and says why.
    /// </summary>
    private async Task<PlacementRequest?> PlanMove(JobSpec spec, StagePlan plan, ReplicaStages stages, Dictionary<string, string> moveOff)
    {
        string jobId = spec.JobId;
        var current = ReplicaStages.NodesOf(S.Placement);
        if (!current.Any(r => r.Nodes.Any(moveOff.ContainsKey))) return null;
        string why = string.Join("; ", moveOff.Values.Distinct());
        // Moving may cost a replica (no spare node: the replica on the node shrinks away), never add one.
        IReadOnlyList<int> counts = [.. JobSpecs.ReplicaCounts(spec).Where(c => c <= current.Count)];
        var without = current.Select(r => r with { Nodes = [.. r.Nodes.Select(n => moveOff.ContainsKey(n) ? "" : n)] }).ToArray();
        var decision = await PlaceReplicasOrStay(spec, plan, counts, without, current, why);
        if (!decision.Placed)
        {
            await _narrator.StagesNotMoved(why, decision.Reason);
            return null;
        }
        await ApplyCommitted(await _checkpoints.Drain());
        return await FromLiveState(stages, decision.Replicas, why);
    }

    /// <summary>
    /// Asks for a new placement of the job's replicas; on a refusal the job stays where it is (a refusal changes nothing
    /// in the scheduler's table) and the refusal is logged.
    /// </summary>
    private async Task<ReplicaPlacement> PlaceReplicasOrStay(JobSpec spec, StagePlan plan, IReadOnlyList<int> counts, IReadOnlyList<ReplicaNodes> wanted,
        IReadOnlyList<ReplicaNodes> current, string why)
    {
        var demands = JobSpecs.Demands(spec, plan);
        var request = new ReplicaRequest(demands, counts, wanted) { MixedDevices = JobSpecs.MixedDevices(spec), Held = current };
        var decision = await _scheduler.Call(s => s.PlaceReplicas(spec.JobId, request));
        if (!decision.Placed)
            LogMoveRefused(logger, spec.JobId, why, decision.Reason);
        return decision;
    }

    /// <summary>Snapshots this step in memory and asks to place the replicas there, each stage restoring that snapshot: nothing is recomputed.</summary>
    private async Task<PlacementRequest> FromLiveState(ReplicaStages stages, IReadOnlyList<ReplicaNodes> replicas, string why)
    {
        await SnapshotInMemory(stages, S.CompletedSteps, CountedStepLoss);
        return new PlacementRequest(replicas, S.CompletedSteps, null, why, ClusterEventKind.StagesMoved) { Counts = [replicas.Count] };
    }

    /// <summary>Gives replicas back to the scheduler (down to <paramref name="target"/>, never below the minimum) from live state.</summary>
    private async Task<PlacementRequest?> PlanShrink(JobSpec spec, StagePlan plan, ReplicaStages stages, int target, string why)
    {
        var current = ReplicaStages.NodesOf(S.Placement);
        IReadOnlyList<int> counts = [.. JobSpecs.ReplicaCounts(spec).Where(c => c <= Math.Max(target, spec.MinReplicas) && c < current.Count)];
        if (counts.Count == 0) return null;
        var decision = await PlaceReplicasOrStay(spec, plan, counts, current, current, why);
        if (!decision.Placed) return null;
        await ApplyCommitted(await _checkpoints.Drain());
        return await FromLiveState(stages, decision.Replicas, why);
    }

    /// <summary>Elastic scale-up at a checkpoint boundary: the scheduler proposes a faster placement (nodes joined) or none.</summary>
    private async Task<PlacementRequest?> ProposeScaleUp(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        var current = ReplicaStages.NodesOf(S.Placement);
        var layout = ReplicaLayout.For(JobSpecs.Demands(spec, plan), current.Count, current, _ => true);
        var proposal = await SchedulerAdvice("a faster placement", s => s.ProposeFasterPlacement(spec.JobId, layout.Demands));
        if (proposal is not { Placed: true }) return null;
        await ApplyCommitted(await _checkpoints.Drain()); // a failed commit defers durability, never the move
        return await FromLiveState(stages, layout.Split(proposal.NodeByStage), "scale-up: faster placement with nodes that joined");
    }

    /// <summary>
    /// Elastic growth at a step boundary: a job running fewer replicas than its maximum asks, now and then, for free
    /// nodes; new replicas load this step's in-memory snapshot, so nothing is recomputed.
    /// </summary>
    private async Task<PlacementRequest?> ProposeMoreReplicas(JobSpec spec, StagePlan plan, ReplicaStages stages)
    {
        var counts = JobSpecs.ReplicaCounts(spec);
        if (stages.Count >= counts[^1] || time.GetUtcNow() - _lastGrowthCheck < options.Value.ReplicaGrowthInterval) return null;
        _lastGrowthCheck = time.GetUtcNow();
        var current = ReplicaStages.NodesOf(S.Placement);
        var request = new ReplicaRequest(JobSpecs.Demands(spec, plan), counts, current) { MixedDevices = JobSpecs.MixedDevices(spec) };
        var proposal = await SchedulerAdvice("more replicas", s => s.ProposeMoreReplicas(spec.JobId, request));
        if (proposal is not { Placed: true }) return null;
        await ApplyCommitted(await _checkpoints.Drain()); // a failed commit defers durability, never the move
        return await FromLiveState(stages, proposal.Replicas, $"growing onto free nodes: {current.Count} → {proposal.Replicas.Count} replicas");
    }
}
