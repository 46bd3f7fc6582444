using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// The node ids a silo exposes, as its nodes registered them with the scheduler ("&lt;silo&gt;/cpu0" on a CPU machine,
/// "&lt;silo&gt;/cuda0" on a GPU one): tests take them from here instead of writing "cpu0".
/// </summary>
internal static class SiloNodes
{
    /// <summary>The ids of <paramref name="silo"/>'s registered nodes, in order; fails when it has none.</summary>
    public static async Task<IReadOnlyList<string>> OfAsync(IClusterClient client, string silo)
    {
        ArgumentNullException.ThrowIfNull(client);
        var nodes = await client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes();
        string[] ids = [.. nodes.Where(n => n.Capabilities.SiloName == silo).Select(n => n.Capabilities.NodeId).Order(StringComparer.Ordinal)];
        return ids.Length > 0 ? ids
            : throw new InvalidOperationException($"Silo {silo} has no registered node; registered: {string.Join(", ", nodes.Select(n => n.Capabilities.NodeId))}.");
    }

    /// <summary>The device <paramref name="nodeId"/> registered with ("cpu" on a CPU machine, "cuda:0" on a GPU one).</summary>
    public static async Task<string> DeviceOfAsync(IClusterClient client, string nodeId)
    {
        ArgumentNullException.ThrowIfNull(client);
        var nodes = await client.GetGrain<ISchedulerGrain>(SchedulerKeys.Default).GetNodes();
        return nodes.SingleOrDefault(n => n.Capabilities.NodeId == nodeId)?.Capabilities.Device
            ?? throw new InvalidOperationException($"Node {nodeId} is not registered; registered: {string.Join(", ", nodes.Select(n => n.Capabilities.NodeId))}.");
    }

    /// <summary>The one node of a silo started with one device slot.</summary>
    public static async Task<string> SingleOfAsync(IClusterClient client, string silo) => (await OfAsync(client, silo)).Single();
}
