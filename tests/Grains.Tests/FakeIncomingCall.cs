using System.Reflection;
using Orleans.Serialization.Invocation;

namespace Cluster.Grains.Tests;

/// <summary>
/// An incoming grain call as a silo's filter sees it, built by hand: lets a test present the filter with what a
/// hand-written Orleans message could claim (any sender), which the Orleans client API cannot send.
/// </summary>
internal sealed class FakeIncomingCall(MethodInfo method, GrainId? source, GrainId target, IInvokable? request = null) : IIncomingGrainCallContext
{
    /// <summary>Whether the filter let the call through to the grain.</summary>
    public bool Invoked { get; private set; }

    /// <summary>The silo stamp in the request context the grain ran with (null: none).</summary>
    public object? StampSeenByGrain { get; private set; }

    public IInvokable Request => request ?? throw new NotSupportedException("This fake call has no request arguments.");

    public object Grain => throw new NotSupportedException("This fake call reaches no grain.");

    public GrainId? SourceId { get; } = source;

    public GrainId TargetId { get; } = target;

    public GrainInterfaceType InterfaceType => GrainInterfaceType.Create(InterfaceName);

    public string InterfaceName => method.DeclaringType!.FullName!;

    public string MethodName => method.Name;

    public MethodInfo InterfaceMethod => method;

    public object? Result { get; set; }

    public Response? Response { get; set; }

    public IGrainContext TargetContext => throw new NotSupportedException("This fake call has no activation.");

    public MethodInfo ImplementationMethod => method;

    public Task Invoke()
    {
        Invoked = true;
        StampSeenByGrain = RequestContext.Get(Cluster.Grains.Security.SiloCallProof.ProofKey);
        return Task.CompletedTask;
    }
}
