namespace Cluster.Grains.Security;

/// <summary>
/// A silo's outgoing calls carry its <see cref="SiloCallProof"/> stamp; calls to a client (an observer, a stream
/// delivery) carry none, and lose any stamp they inherited from the call being served, so no client ever holds one.
/// </summary>
internal sealed class SiloCallStampFilter(SiloCallProof proof) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (OperatorSurfaceFilter.IsClientId(context.TargetId))
            SiloCallProof.Remove();
        else
            proof.Stamp(context.TargetId.ToString(), context.InterfaceName, context.MethodName);
        await context.Invoke(); // async: the stamp leaves the caller's request context when the call returns
    }
}
