using System.Net;
using System.Net.Sockets;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Opens a TCP connection to a silo's endpoint and closes it at once. A stopped process (SIGSTOP, a long pause) still
/// answers — the kernel completes the handshake — so only a process that is gone, or a host that cannot be reached,
/// reads as not answering.
/// </summary>
internal sealed class TcpSiloPortProbe(TimeProvider time) : ISiloPortProbe
{
    public async Task<bool> Answers(IPEndPoint endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var bounded = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(bounded.Token, cancellationToken);
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint, linked.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
