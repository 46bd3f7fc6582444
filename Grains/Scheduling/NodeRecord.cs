using Cluster.Grains.Interfaces.Nodes;

namespace Cluster.Grains.Scheduling;

/// <summary>What the scheduler knows of one node: its capabilities, its latest heartbeat and the operators' flags.</summary>
internal sealed record NodeRecord(NodeCapabilities Capabilities, NodeHealth? Health, DateTimeOffset? LastHeartbeat)
{
    public bool Cordoned { get; init; }

    public bool Draining { get; init; }

    public string? Straggler { get; init; }

    /// <summary>The parsable address of the silo incarnation whose graceful shutdown drains this node, or null (see <c>SchedulerGrain.DrainLeaving</c>).</summary>
    public string? LeavingWith { get; init; }

    /// <summary>Its stages move off at their jobs' next step boundary: an operator drains it, or its silo is leaving.</summary>
    public bool MovesOff => Draining || LeavingWith is not null;

    /// <summary>Takes stages other than the ones it already runs.</summary>
    public bool AcceptsNewStages => !Cordoned && !MovesOff && Straggler is null;
}
