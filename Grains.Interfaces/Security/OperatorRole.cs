namespace Cluster.Grains.Interfaces.Security;

/// <summary>What a client's principal may do, each role including the ones before it.</summary>
public enum OperatorRole
{
    /// <summary>Reads: jobs, nodes, queue, quotas, checkpoints, events.</summary>
    Viewer = 1,

    /// <summary>Submits, pauses, resumes, cancels and checkpoints the jobs of its teams; cordons and drains nodes.</summary>
    Operator = 2,

    /// <summary>Everything: quotas, every team's jobs.</summary>
    Admin = 3,
}
