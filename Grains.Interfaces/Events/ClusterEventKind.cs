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
}
