namespace Cluster.Grains.Interfaces.Events;

/// <summary>What happened. Values are sent and may be stored: append new ones, never renumber.</summary>
public enum ClusterEventKind
{
    /// <summary>A node stopped heartbeating, its silo left the cluster, or it failed too many steps.</summary>
    NodeLost = 0,

    /// <summary>A lost node heartbeats again from an active silo.</summary>
    NodeRecovered = 1,

    /// <summary>A job noticed a failure and started recovering (new epoch).</summary>
    JobRecovering = 2,

    /// <summary>A job's stages were placed again (surviving stages stay; the count of moved ones is in the message).</summary>
    JobReplaced = 3,

    /// <summary>A job's stages loaded a checkpoint.</summary>
    JobRestored = 4,

    /// <summary>A job completed its first step after a recovery.</summary>
    JobResumed = 5,

    /// <summary>A checkpoint could not be used (missing or corrupt shard); an older one is tried.</summary>
    CheckpointRejected = 6,

    /// <summary>Not enough healthy nodes to place a job.</summary>
    WaitingForCapacity = 7,

    /// <summary>An operator cordoned a node: no new stages go there.</summary>
    NodeCordoned = 8,

    /// <summary>An operator lifted a cordon or drain.</summary>
    NodeUncordoned = 9,

    /// <summary>An operator drains a node: its stages move away at the next step boundary.</summary>
    NodeDraining = 10,

    /// <summary>A job moved stages from live state (drain, straggler, scale-up): no step lost.</summary>
    StagesMoved = 11,

    /// <summary>A node was slower than its job's other nodes for many steps in a row.</summary>
    StragglerFlagged = 12,

    /// <summary>An operator paused a job (checkpointed, nodes freed).</summary>
    JobPaused = 13,

    /// <summary>An operator resumed a paused job.</summary>
    JobUnpaused = 14,

    /// <summary>A checkpoint an operator asked for was committed.</summary>
    CheckpointCreated = 15,

    /// <summary>A node registered with the scheduler for the first time.</summary>
    NodeJoined = 16,

    /// <summary>An operator rewound a job to a committed checkpoint.</summary>
    JobRewound = 17,

    /// <summary>A job gave its nodes to a higher-priority one (checkpointed first; it resumes when capacity returns).</summary>
    JobPreempted = 18,

    /// <summary>A job's data-parallel replica count changed (shrunk after a failure or a drain, grown onto free nodes).</summary>
    ReplicasChanged = 19,

    /// <summary>A job's storage has been unreachable too long (or lists nothing loadable): it waits, and resumes by itself.</summary>
    WaitingForStorage = 20,

    /// <summary>A job that waited for storage committed a checkpoint again and trains on.</summary>
    StorageReturned = 21,

    /// <summary>
    /// The scheduler reconciled its table with what jobs report (after it restarted): a job's placement it did not know
    /// was adopted, or a node claimed by two jobs was taken from one of them (that job recovers elsewhere).
    /// </summary>
    PlacementReconciled = 22,

    /// <summary>An operator asked to cancel a job (its reason, if given, is in <see cref="ClusterEvent.Reason"/>).</summary>
    JobCancelRequested = 23,

    /// <summary>An operator changed a job's priority or replica maximum.</summary>
    JobUpdated = 24,

    /// <summary>An operator deleted a finished job (with <c>--purge</c>: its checkpoints too).</summary>
    JobDeleted = 25,

    /// <summary>
    /// A job asked to checkpoint and free its nodes for a higher-priority one could not commit the checkpoint: it keeps
    /// its nodes and trains on, tries again, and the scheduler stops waiting for it (it asks another job or tells the
    /// waiting one why). A preemption that succeeds is <see cref="JobPreempted"/>.
    /// </summary>
    PreemptionFailed = 26,

    /// <summary>
    /// A job's coordinator moved to another silo because its own shut down (a rolling update): handed over at a step
    /// boundary and taken over from live state, no step lost and no failure counted.
    /// </summary>
    JobCoordinatorMoved = 27,
}
