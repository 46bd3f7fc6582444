using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Free TCP ports on loopback, for silos started on one machine (others may run clusters here too). A port is free
/// only until something binds it, and the silos bind theirs a moment after they are picked: a port from the kernel's
/// ephemeral range (what binding port 0 returns) may be taken meanwhile by any outgoing connection on the machine — the
/// silos' own, a test's, a storage emulator's. So the ports come from a range below it, which no connection is given
/// on its own, at random: two pickers of the same moment meet only by a one-in-thousands chance.
/// </summary>
public static class LoopbackPorts
{
    /// <summary>The lowest port picked: above the usual fixed ports of development tools (Azurite's 10000–10002, Orleans' 11111).</summary>
    public const int RangeStart = 20000;

    /// <summary>The range's end (exclusive): Orleans' default gateway port, or the kernel's ephemeral range where that starts lower.</summary>
    private const int DefaultRangeEnd = 30000;

    /// <summary>
    /// <paramref name="count"/> distinct ports outside the ephemeral range that were free a moment ago (held together, so
    /// none repeats); from the kernel's ephemeral range only when there is no room below it.
    /// </summary>
    public static int[] Free(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int end = Math.Min(DefaultRangeEnd, EphemeralStart());
        return end - RangeStart >= 10 * count ? FreeBelow(count, end) : FreeEphemeral(count);
    }

    private static int[] FreeBelow(int count, int end)
    {
        var held = new List<TcpListener>(count);
        try
        {
            for (int tries = 0; held.Count < count; tries++)
            {
                if (tries > 1000)
                    throw new InvalidOperationException($"No {count} free TCP ports on loopback in {RangeStart}–{end - 1} after {tries} tries: free some, or give the silos fixed ports.");
                int port = Random.Shared.Next(RangeStart, end);
                if (held.Any(l => ((IPEndPoint)l.LocalEndpoint).Port == port)) continue;
                var listener = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    listener.Start();
                    held.Add(listener);
                }
                catch (SocketException)
                {
                    listener.Dispose(); // in use: another one
                }
            }
            return [.. held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var l in held) l.Dispose();
        }
    }

    private static int[] FreeEphemeral(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var l in listeners) l.Start();
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux: <c>ip_local_port_range</c>; elsewhere IANA's 49152).</summary>
    public static int EphemeralStart()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        try
        {
            if (File.Exists(path)
                && File.ReadAllText(path).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) is [var low, ..]
                && int.TryParse(low, NumberStyles.Integer, CultureInfo.InvariantCulture, out int start))
                return start;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 49152;
    }
}
