using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>The principal of the operator call being served, for events and logs.</summary>
public static class OperatorCalls
{
    /// <summary>
    /// The principal's name when the current call came from a client (set by <see cref="OperatorSurfaceFilter"/>),
    /// else null. Read it at the start of an operator method and keep it with the request: work started from the call
    /// inherits the value, so code that runs later (a driver loop) must not read it.
    /// </summary>
    public static string? CurrentPrincipal => RequestContext.Get(CallCredentials.PrincipalKey) as string;
}
