using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

/// <summary>
/// A coordinator's graceful leave: when its silo shuts down, the job is handed over at a step boundary instead of being
/// lost with the activation and recovered by the next one.
/// <para>
/// Invariant (a hand-over is a move, not a failure): a coordinator asked to hand over (<see cref="HandOverForShutdown"/>,
/// by its silo once that silo's stages were drained) stops at its next step boundary — after serving the requests
/// waiting there, with every counted step saved, the step's in-memory snapshots held and no checkpoint commit in flight —
/// saves a <see cref="CoordinatorHandOver"/> naming its epoch and step as its last write, and drives the job no more:
/// it starts no loop again, and a request that needs one fails with "ask again". It stays active, answering questions,
/// until Orleans deactivates its silo's grains, so the job's next activation is placed only once the silo's membership
/// says it is shutting down. That activation, seeing the hand-over match the saved epoch and step, claims the next
/// epoch (which fences anything of the old one) and configures the same stages on the same nodes from their live state
/// of that step: no failure counted, no step recomputed, and the history says <c>JobCoordinatorMoved</c> instead of a
/// recovery. A coordinator that cannot reach a boundary in time (<c>TrainingCluster:CoordinatorHandOverTimeout</c>),
/// meets a failure meanwhile, cannot save, or whose job waits (for capacity, for storage) or is paused writes no
/// hand-over, and its next activation carries on as after the loss of its silo (a job that trained is recovered from
/// memory, as before this existed; a paused one stays paused). A job being placed when asked hands over at the
/// boundary after its placement (<see cref="ReachesABoundarySoon"/>).
/// </para>
/// </summary>
internal sealed partial class TrainingJobGrain
{
    private CoordinatorHandOver? _takingOver; // the hand-over this activation found on activation, until its first placement takes it
    private bool _handedOver; // this activation handed the job over: it drives it no more

    public async Task<bool> HandOverForShutdown(string siloAddress)
    {
        ArgumentNullException.ThrowIfNull(siloAddress);
        if (siloAddress != silo.SiloAddress.ToParsableString() || _loop is not { IsCompleted: false } loop || !ReachesABoundarySoon(S.State))
            return _handedOver;
        LogHandOverAsked(logger, this.GetPrimaryKeyString(), S.State, S.CompletedSteps);
        _mailbox.RequestHandOver();
        // The loop ends at the boundary where it hands over; one that enters a wait no boundary ends soon declines.
        if (await Task.WhenAny(loop, _mailbox.HandOverDeclined) == loop) await loop;
        return _handedOver;
    }

    /// <summary>
    /// Whether a job in <paramref name="state"/> reaches a step boundary soon: one that trains, and one being placed —
    /// a move of its stages (a drain of this same silo's nodes, seen in RollingRestartProcessTests: refused then, the
    /// job recovered), a shrink, growth, or a recovery — which steps once placed. One waiting for capacity or storage,
    /// paused, or not started would hold its silo's stop up to the limit for nothing; it is left to its next activation.
    /// A placement that ends in such a wait declines the hand-over at once (<see cref="DeclineHandOverIfWaiting"/>).
    /// </summary>
    private static bool ReachesABoundarySoon(JobState state) =>
        state is JobState.Running or JobState.Checkpointing or JobState.Placing or JobState.Recovering;

    /// <summary>
    /// The loop, asked to hand over, enters <paramref name="phase"/>: a wait for capacity or a pause ends at no step
    /// boundary soon, so the hand-over is declined (the caller stops waiting; the next activation carries on).
    /// </summary>
    private void DeclineHandOverIfWaiting(JobPhase phase)
    {
        if (_mailbox.HandOverRequested && phase is JobPhase.WaitingForCapacity or JobPhase.Paused)
            _mailbox.DeclineHandOver();
    }

    /// <summary>Orleans deactivates this activation: callers that asked a handed-over coordinator since are told to ask again.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        coordinators.Remove(this.GetPrimaryKeyString());
        if (_handedOver) _mailbox.Abandon(MovedAskAgain);
        return Task.CompletedTask;
    }

    private string MovedAskAgain => $"Job {this.GetPrimaryKeyString()}'s coordinator moved to another silo (its silo '{silo.Name}' is shutting down): ask again.";

    /// <summary>
    /// The step boundary's last exit when this activation's silo shuts down: saves the hand-over (see the class's
    /// invariant) and stops. The requests waiting at this boundary were served before; those that still wait are
    /// abandoned with "ask again" (the next activation serves a new ask).
    /// </summary>
    private async Task<JobPhase> HandOver(ReplicaStages stages)
    {
        string jobId = this.GetPrimaryKeyString();
        await ApplyCommitted(await _checkpoints.Drain()); // a commit in flight ends here, or never (its step is retaken)
        await SnapshotInMemory(stages, S.CompletedSteps, CountedStepLoss); // held already when every step is snapshotted
        S.HandOver = new CoordinatorHandOver(S.Epoch, S.CompletedSteps, silo.Name, time.GetUtcNow());
        await _writer.Flush();
        LogHandedOver(logger, jobId, S.CompletedSteps, S.Epoch, silo.Name);
        _recoveryTrace.Abandon("coordinator handed over: its silo is shutting down", time.GetUtcNow());
        _handedOver = true;
        _mailbox.Abandon(MovedAskAgain);
        return new JobPhase.HandedOver();
    }

    /// <summary>
    /// On activation: the hand-over the saved state carries, when it still describes that state (the same epoch and
    /// step, a job that runs) — else null, and a job found running is recovered as after a lost coordinator.
    /// </summary>
    private CoordinatorHandOver? HandOverToTake() =>
        S.HandOver is { } handOver && handOver.Epoch == S.Epoch && handOver.Step == S.CompletedSteps && S.Placement.Count > 0
        && S.State is JobState.Running or JobState.Checkpointing
            ? handOver
            : null;

    /// <summary>The first phase of this activation's loop: taking a hand-over it found, else placing as after any loss.</summary>
    private JobPhase FirstPhase()
    {
        if (S.State == JobState.Paused) return new JobPhase.Paused();
        if (_takingOver is not { } handOver) return new JobPhase.Placing(null);
        _takingOver = null;
        LogTakingOver(logger, this.GetPrimaryKeyString(), handOver.Step, handOver.Epoch, handOver.FromSilo, (time.GetUtcNow() - handOver.At).TotalSeconds);
        return new JobPhase.Placing(PlacementRequest.TakeOver(handOver, ReplicaStages.NodesOf(S.Placement)));
    }
}
