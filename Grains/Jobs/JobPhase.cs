using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The closed set of phases a job's driver loop moves through (<c>phase = await Next(phase)</c>). Each phase is a
/// record of what the next step needs; its handler returns the next phase, and an exception from any await in a
/// handler lands in <see cref="Recovering"/>, <see cref="WaitingForStorage"/> or <see cref="Finished"/>. Exits:
/// <code>
/// Placing ──placed──▶ AtBoundary ──train──▶ Running ──▶ AtBoundary … ──last step durable──▶ Finished(Completed)
///    │ refused           │ mailbox: rewind/move/shrink/grow/preempt ──▶ Placing
///    ▼                   │ mailbox: pause ──▶ Paused ──resume──▶ Placing
/// WaitingForCapacity     │ too many steps not durable ──▶ WaitingForStorage(kept stages) ──durable──▶ AtBoundary
///    └─poll─▶ Placing    └ cancel ──▶ Finished(Cancelled)
/// any failure ──▶ Recovering ──back-off──▶ Placing | (fatal, budget spent) Finished(Failed)
/// storage unusable ──▶ WaitingForStorage(no stages) ──back-off──▶ Placing
/// AtBoundary ──its silo shuts down (after the requests)──▶ HandedOver (this activation stops; the next one places from live state)
/// </code>
/// </summary>
internal abstract record JobPhase
{
    private JobPhase() { }

    /// <summary>Asking the scheduler for nodes; <paramref name="Attempt"/> is null until this placement has taken its epoch.</summary>
    public sealed record Placing(PlacementRequest? Request, PlacementAttempt? Attempt = null) : JobPhase;

    /// <summary>The scheduler refused; the job asks again after a poll period, in the epoch of <paramref name="Attempt"/>.</summary>
    public sealed record WaitingForCapacity(PlacementAttempt Attempt, string Reason) : JobPhase;

    /// <summary>
    /// Between two steps: every stage has applied the same number of updates. Requests are served here. With
    /// <paramref name="RetakeCheckpoint"/> (right after a recovery) a checkpoint that came due but never committed is taken first.
    /// </summary>
    public sealed record AtBoundary(ReplicaStages Stages, bool RetakeCheckpoint = false) : JobPhase;

    /// <summary>One training step, then the checkpoint or snapshot it makes due.</summary>
    public sealed record Running(ReplicaStages Stages) : JobPhase;

    /// <summary>
    /// Storage cannot take what the job needs. With <paramref name="Cause"/> null the job waits, stages kept, until its
    /// step is durable (<paramref name="StateToo"/>: recorded in saved state as well), shown once the wait lasts
    /// <paramref name="VisibleAfter"/>. With a cause nothing loadable could be listed: it places again after a back-off.
    /// </summary>
    public sealed record WaitingForStorage(ReplicaStages Stages, bool StateToo, TimeSpan VisibleAfter, StorageUnavailableException? Cause = null) : JobPhase;

    /// <summary>Nodes freed, waiting for an operator's resume (or cancel).</summary>
    public sealed record Paused : JobPhase;

    /// <summary>A failure (a node, a silo, a message lost): back off, then place again — or fail for good.</summary>
    public sealed record Recovering(Exception Cause) : JobPhase;

    /// <summary>
    /// This activation handed the job over (<see cref="CoordinatorHandOver"/>, saved) and stops, writing nothing more;
    /// the job is not finished: its next activation, on a silo that stays, carries on.
    /// </summary>
    public sealed record HandedOver : JobPhase;

    /// <summary>Terminal: <paramref name="State"/> is Completed, Cancelled or Failed (with <paramref name="Error"/>).</summary>
    public sealed record Finished(JobState State, string? Error) : JobPhase;
}

/// <summary>One placement in progress: its request, whether it recovers from a failure, when it started (its epoch is taken).</summary>
internal sealed record PlacementAttempt(PlacementRequest? Request, bool Recovering, DateTimeOffset Started, long CountedEpoch);
