using System.Reflection;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Security;

/// <summary>
/// What a client may call of Orleans' own grain interfaces: the management grain's reads and the consumer side of
/// stream subscriptions (the console's live events) need the viewer role; publishing to the cluster's streams and the
/// management grain's other methods are refused; the rest is the client runtime's own plumbing (cluster manifest, type
/// lookups), which every connected client needs and which reads no cluster data.
/// </summary>
internal static class OrleansClientSurface
{
    /// <summary>Orleans.Streams.IPubSubRendezvousGrain (internal to Orleans): where stream subscriptions are registered.</summary>
    internal const string PubSubInterface = "Orleans.Streams.IPubSubRendezvousGrain";

    private static readonly OperatorFacingAttribute s_viewer = new(OperatorRole.Viewer);

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
        return (null, null);
    }
}
