using System.Net;
using System.Net.Sockets;

namespace Cluster.Grains.Hosting;

/// <summary>Free TCP ports on loopback, for silos started on one machine (others may run clusters here too).</summary>
public static class LoopbackPorts
{
    /// <summary><paramref name="count"/> distinct ports that were free a moment ago (held together, so none repeats).</summary>
    public static int[] Free(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var l in listeners) l.Start();
        int[] ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }
}
