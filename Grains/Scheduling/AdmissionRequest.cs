using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// A job's ask for nodes: its <paramref name="Minimum"/> (what it queues and makes room for, with the nodes it prefers
/// and whether each of those stages needs a node of its own), its shape (stages per replica, replica counts
/// descending), the epoch it asks in (0: not stated) and <paramref name="Choose"/>, the pure rule that picks among
/// candidate nodes. <see cref="MixedDevices"/>: the job may span device kinds (queueing and making room honour it).
/// </summary>
internal sealed record AdmissionRequest(
    string JobId,
    IReadOnlyList<StageDemand> Minimum,
    IReadOnlyList<string> MinimumPreferred,
    bool MinimumOwnNodes,
    int StagesPerReplica,
    IReadOnlyList<int> Counts,
    long Epoch,
    Func<PlacementCandidate[], JobTicket, PlacementChoice> Choose)
{
    /// <summary>The job's spec allows stages on several device kinds (<see cref="DeviceKinds"/>).</summary>
    public bool MixedDevices { get; init; }
}
