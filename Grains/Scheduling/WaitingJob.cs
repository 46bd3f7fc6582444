using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>A job that holds no nodes, asked for some and was refused; it asks again about every second while it waits (with the demands of its minimum).</summary>
internal sealed record WaitingJob(JobTicket Ticket, IReadOnlyList<StageDemand> Demands, DateTimeOffset Since, DateTimeOffset LastAsk, string Reason)
{
    /// <summary>Its minimum needs a node per stage (several replicas); else its stages may share nodes.</summary>
    public bool OwnNodes { get; init; }

    /// <summary>Its spec allows stages on several device kinds; else it fits only on nodes of one kind.</summary>
    public bool MixedDevices { get; init; }

    public bool FitsIn(IReadOnlyList<PlacementCandidate> candidates) => SchedulerTable.Fits(Demands, candidates, [], OwnNodes, MixedDevices);
}
