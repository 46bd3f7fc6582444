namespace Cluster.Grains.Interfaces.Security;

/// <summary>
/// Marks a grain interface method that clients (the operator console) may call, and the least role that may call it.
/// Every other method of this assembly's interfaces is internal: the silos refuse it when a client calls it
/// (<see cref="AccessDeniedException"/>). A principal limited to teams reads and acts on its teams' jobs only: a
/// <see cref="OperatorScope.Job"/> method on another team's job is refused, and lists leave other teams' jobs out.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class OperatorFacingAttribute(OperatorRole role) : Attribute
{
    public OperatorRole Role { get; } = role;

    /// <summary>What the call acts on. <value><see cref="OperatorScope.Fleet"/>.</value></summary>
    public OperatorScope Scope { get; init; }
}
