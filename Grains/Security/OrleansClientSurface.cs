using System.Reflection;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>
/// What a client may call of Orleans' own grain interfaces and system targets, a closed list: the management grain's
/// reads and the consumer side of stream subscriptions (the console's live events) need the viewer role; the grain
/// management extension (deactivate or migrate an activation: tests and <c>bench fleet</c> move the scheduler with it)
/// needs admin; the cluster manifest (<c>IClusterManifestSystemTarget</c>), which the client runtime reads when it
/// connects and which holds only grain types and interfaces, the cancellation of a client's own calls, and the test
/// host's hooks (a system target only <c>InProcessTestCluster</c> registers; no production silo has it) are open to
/// every connected client. Everything else — publishing to the cluster's streams, the management grain's other methods,
/// and every other runtime interface (membership, grain directory, silo control, activation migration, reminders, …) —
/// is refused. Silos' own calls to these interfaces never get here: they carry the silos' stamp (<see cref="SiloCallProof"/>),
/// and a grain timer's tick, which Orleans runs through the incoming filters without one, is recognised by
/// <see cref="OperatorSurfaceFilter"/>.
/// </summary>
internal static class OrleansClientSurface
{
    /// <summary>Orleans.Streams.IPubSubRendezvousGrain (internal to Orleans): where stream subscriptions are registered.</summary>
    internal const string PubSubInterface = "Orleans.Streams.IPubSubRendezvousGrain";

    /// <summary>Orleans.Runtime.IClusterManifestSystemTarget (internal to Orleans): the client runtime reads grain types and interfaces from it.</summary>
    internal const string ClusterManifestInterface = "Orleans.Runtime.IClusterManifestSystemTarget";

    /// <summary>
    /// What every connected client's runtime calls by itself — the cluster manifest when it connects, and cancelling its
    /// own calls (on a timeout, or a cancelled token; Orleans matches a cancellation to the caller's own request) — and
    /// the test host's hooks (registered only by Orleans' in-process test cluster, whose client calls them).
    /// </summary>
    private static readonly HashSet<string> s_clientRuntime = new(StringComparer.Ordinal)
    {
        ClusterManifestInterface, "Orleans.Runtime.IGrainCallCancellationExtension", "Orleans.Runtime.ICancellationSourcesExtension",
        "Orleans.Runtime.TestHooks.ITestHooks", "Orleans.Runtime.TestHooks.ITestHooksSystemTarget",
    };

    /// <summary>Orleans.Streams.IStreamConsumerExtension (internal to Orleans): how a stream's pulling agent hands items to a subscriber.</summary>
    internal const string StreamConsumerInterface = "Orleans.Streams.IStreamConsumerExtension";

    /// <summary>
    /// Whether the call hands stream items to a subscriber that lives in this silo's process — the silo's hosted client,
    /// which the in-process cluster (<c>demo</c>, the benchmarks) uses as its client. The pulling agent that sends it is
    /// a system target, whose calls carry no silo stamp, so without this rule the filter would take the delivery for a
    /// client's call and refuse it, and the demo would see no progress and no events. Safe: the call reaches only the
    /// subscriber's own callbacks (a forged delivery could show the local console an item, never act on the cluster);
    /// a remote client's deliveries never pass a silo's incoming filter.
    /// </summary>
    public static bool IsDeliveryToHostedClient(MethodInfo method, bool targetIsClient) =>
        targetIsClient && method.DeclaringType?.FullName == StreamConsumerInterface;

    private static readonly OperatorFacingAttribute s_viewer = new(OperatorRole.Viewer);

    private static readonly OperatorFacingAttribute s_admin = new(OperatorRole.Admin);

    /// <summary>The pub-sub methods a subscriber's client calls: subscribe, unsubscribe, list its subscriptions, counts.</summary>
    private static readonly HashSet<string> s_consumerMethods = new(StringComparer.Ordinal)
    {
        "RegisterConsumer", "UnregisterConsumer", "GetAllSubscriptions", "ConsumerCount", "ProducerCount",
    };

    /// <summary>
    /// (required, null) when the method needs <paramref name="required"/>; (null, refusal) when clients may not call it;
    /// (null, null) when it is open to every connected client.
    /// </summary>
    public static (OperatorFacingAttribute? Required, string? Refusal) Rule(MethodInfo method, string call)
    {
        var type = method.DeclaringType;
        if (type == typeof(IManagementGrain))
            return method.Name.StartsWith("Get", StringComparison.Ordinal) ? (s_viewer, null) : (null, $"{call} changes the runtime: only silos may call it.");
        if (type?.FullName == PubSubInterface)
            return s_consumerMethods.Contains(method.Name)
                ? (s_viewer, null)
                : (null, $"{call} is internal to the cluster: a client may subscribe to the cluster's streams, not publish to them or change their subscriptions.");
        if (type is not null && typeof(Orleans.Providers.IMemoryStreamQueueGrain).IsAssignableFrom(type))
            return (null, $"{call} is internal to the cluster: only silos publish to or read the cluster's stream queues.");
        if (type == typeof(Orleans.Core.Internal.IGrainManagementExtension))
            return (s_admin, null);
        if (type?.FullName is { } name && s_clientRuntime.Contains(name))
            return (null, null); // the client runtime's own plumbing: reads no cluster data, changes nothing of anyone else's
        return (null, $"{call} is part of Orleans' runtime and internal to the cluster: clients may call the operator-facing methods, " +
                      "the management grain's reads, stream subscriptions and the cluster manifest only.");
    }
}
