namespace Cluster.Grains.Interfaces.Security;

/// <summary>What an operator-facing method acts on, which decides how a principal's teams limit it.</summary>
public enum OperatorScope
{
    /// <summary>
    /// The whole fleet (nodes, queue): an <see cref="OperatorRole.Operator"/> limited to teams may not call it; a read
    /// is open to every viewer, with other teams' jobs left out of what it returns.
    /// </summary>
    Fleet = 0,

    /// <summary>
    /// One job (the target grain's, a submitted spec's, or the one a <c>jobId</c> argument names): allowed, reads
    /// included, when the job's team is one of the principal's.
    /// </summary>
    Job = 1,
}
