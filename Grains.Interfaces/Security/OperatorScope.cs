namespace Cluster.Grains.Interfaces.Security;

/// <summary>What an operator-facing method acts on, which decides how a principal's teams limit it.</summary>
public enum OperatorScope
{
    /// <summary>The whole fleet (nodes, queue): an <see cref="OperatorRole.Operator"/> limited to teams may not call it.</summary>
    Fleet = 0,

    /// <summary>One job (the target grain's, or the submitted spec's): allowed when the job's team is one of the principal's.</summary>
    Job = 1,
}
