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
}
