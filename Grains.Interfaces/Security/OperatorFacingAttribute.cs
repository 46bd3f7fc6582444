namespace Cluster.Grains.Interfaces.Security;

/// <summary>
/// Marks a grain interface method that clients (the operator console) may call, and the least role that may call it.
/// Every other method of this assembly's interfaces is internal: the silos refuse it when a client calls it
/// (<see cref="AccessDeniedException"/>). Reads (<see cref="OperatorRole.Viewer"/>) are never limited by team.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class OperatorFacingAttribute(OperatorRole role) : Attribute
{
    public OperatorRole Role { get; } = role;

    /// <summary>What the call acts on. <value><see cref="OperatorScope.Fleet"/>.</value></summary>
    public OperatorScope Scope { get; init; }
}
