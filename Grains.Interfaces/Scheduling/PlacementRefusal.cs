namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>
/// Why the scheduler refused a placement, for callers to switch on (the decision's reason says it in words). Values are
/// append-only: they travel between silos of different versions.
/// </summary>
public enum PlacementRefusal
{
    /// <summary>Not refused: the placement was made.</summary>
    None = 0,

    /// <summary>A stage needs more memory than any usable node has: waiting cannot fix it on this fleet.</summary>
    CannotFit = 1,

    /// <summary>Not enough usable nodes now (lost, cordoned, held by jobs that go first); capacity may come back.</summary>
    WaitingForCapacity = 2,

    /// <summary>The job's team is at (or below what the job needs of) its node quota.</summary>
    OverQuota = 3,

    /// <summary>Elastic jobs were asked to shrink to make room; the job is placed once they have.</summary>
    WaitingForShrink = 4,

    /// <summary>Lower-priority jobs were asked to checkpoint and free their nodes; the job is placed once they have.</summary>
    WaitingForPreemption = 5,

    /// <summary>Queued behind a job that comes first (priority, fair share, submission time) and fits now.</summary>
    QueuedBehind = 6,

    /// <summary>The scheduler just (re)activated and is rebuilding its table (nodes re-register, jobs report their placements).</summary>
    SchedulerStarting = 7,

    /// <summary>The request itself is invalid (no stages, bad indices or counts): fix the request.</summary>
    InvalidRequest = 8,

    /// <summary>A proposal was asked for a job that holds no placement.</summary>
    NoPlacement = 9,

    /// <summary>A proposal found nothing better than the current placement.</summary>
    NoImprovement = 10,

    /// <summary>The request carries an older epoch than the scheduler recorded for the job: a superseded activation asked.</summary>
    StaleEpoch = 11,
}
