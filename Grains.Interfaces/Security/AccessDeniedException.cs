namespace Cluster.Grains.Interfaces.Security;

/// <summary>
/// A silo refused a client's call: the method is internal to the cluster, the client proved no identity, or its
/// principal's role or teams do not allow it. The message names the method, the principal and the fix.
/// </summary>
[GenerateSerializer, Alias("cluster.AccessDeniedException")]
public sealed class AccessDeniedException : Exception
{
    public AccessDeniedException(string message) : base(message)
    {
    }
}
