using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>The principal of the operator call being served, for events, logs and checks that depend on arguments.</summary>
public static class OperatorCalls
{
    /// <summary>
    /// The principal's name when the current call came from a client (set by <see cref="OperatorSurfaceFilter"/>),
    /// else null. Read it at the start of an operator method and keep it with the request: work started from the call
    /// inherits the value, so code that runs later (a driver loop) must not read it.
    /// </summary>
    public static string? CurrentPrincipal => RequestContext.Get(CallCredentials.PrincipalKey) as string;

    /// <summary>The role of <see cref="CurrentPrincipal"/>, or null when the current call did not come from a client.</summary>
    public static OperatorRole? CurrentRole => RequestContext.Get(CallCredentials.PrincipalRoleKey) is int role ? (OperatorRole)role : null;

    /// <summary>
    /// For an operator method whose needed role depends on its arguments (the filter checks the least role the method
    /// needs): throws <see cref="AccessDeniedException"/> when the current call came from a client whose principal's role
    /// is below <paramref name="role"/>. Calls from silos (no principal) pass. Call it at the start of the method.
    /// </summary>
    /// <param name="action">What needs the role, for the message, e.g. "restore job x from its initial weights".</param>
    public static void Require(OperatorRole role, string action)
    {
        if (CurrentRole is { } current && current < role)
            throw new AccessDeniedException($"{CurrentPrincipal} ({current.ToString().ToLowerInvariant()}) may not {action}: it needs the " +
                                            $"{role.ToString().ToLowerInvariant()} role. Ask an admin to do it, or to map your certificate to that role (Authorization:Principals).");
    }
}
