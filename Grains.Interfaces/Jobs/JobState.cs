namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>Life cycle of a job. Values are persisted: append new ones, never renumber.</summary>
public enum JobState
{
    Pending = 0,
    Placing = 1,
    Running = 2,
    Checkpointing = 3,
    Completed = 4,
    Failed = 5,
    Cancelled = 6,

    /// <summary>A node or silo failed: the epoch was bumped and stages are being re-placed and restored.</summary>
    Recovering = 7,

    /// <summary>Not enough healthy nodes to place the job; it resumes by itself when nodes join.</summary>
    WaitingForCapacity = 8,

    /// <summary>Paused by an operator: checkpointed, nodes freed; <c>Resume</c> carries on.</summary>
    Paused = 9,

    /// <summary>
    /// Storage (checkpoint store or job state) has been unreachable for too long, or holds nothing loadable although
    /// steps were committed: training waits, nodes kept, and resumes by itself when storage returns.
    /// </summary>
    WaitingForStorage = 10,
}
