using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Cluster.Grains.Hosting;

namespace Cluster.Grains.Tests;

/// <summary>
/// The ports picked for local silos come from below the kernel's ephemeral range, so no outgoing connection on the
/// machine (which the kernel gives an ephemeral port) can take one between the pick and the silo's bind.
/// </summary>
public sealed class LoopbackPortsTests
{
    [Fact]
    public void Picked_ports_are_distinct_bindable_and_below_the_ephemeral_range()
    {
        int[] ports = LoopbackPorts.Free(8);
        Assert.Equal(8, ports.Distinct().Count());
        var (low, high) = KernelEphemeralRange();
        Assert.All(ports, p => Assert.True(p >= LoopbackPorts.RangeStart && (p < low || p > high), $"port {p} is in the kernel's ephemeral range {low}–{high}"));
        var listeners = ports.Select(p => new TcpListener(IPAddress.Loopback, p)).ToList();
        try
        {
            foreach (var l in listeners) l.Start(); // all free: none was left held
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }

    [Fact]
    public void A_port_in_use_is_never_picked()
    {
        // The picker is random: hold the ports it picked once, and pick again many times.
        int[] first = LoopbackPorts.Free(4);
        var held = first.Select(p => new TcpListener(IPAddress.Loopback, p)).ToList();
        try
        {
            foreach (var l in held) l.Start();
            for (int round = 0; round < 20; round++)
                Assert.Empty(LoopbackPorts.Free(4).Intersect(first));
        }
        finally
        {
            foreach (var l in held) l.Dispose();
        }
    }

    /// <summary>The kernel's ephemeral range as the kernel states it (IANA's where there is no such file).</summary>
    private static (int Low, int High) KernelEphemeralRange()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        if (!File.Exists(path)) return (49152, 65535);
        int[] range = [.. File.ReadAllText(path).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(f => int.Parse(f, CultureInfo.InvariantCulture))];
        return (range[0], range[1]);
    }
}
