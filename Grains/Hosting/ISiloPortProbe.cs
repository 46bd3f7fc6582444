using System.Net;

namespace Cluster.Grains.Hosting;

/// <summary>Whether a process still listens on a silo's endpoint: the seam <see cref="PreviousIncarnationEviction"/> asks, and tests replace.</summary>
internal interface ISiloPortProbe
{
    /// <summary>
    /// True when a connection to <paramref name="endpoint"/> is accepted within <paramref name="timeout"/>; false when it
    /// is refused, unreachable, or not answered in time.
    /// </summary>
    Task<bool> Answers(IPEndPoint endpoint, TimeSpan timeout, CancellationToken cancellationToken);
}
