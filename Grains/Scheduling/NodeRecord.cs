using Cluster.Grains.Interfaces.Nodes;

namespace Cluster.Grains.Scheduling;

/// <summary>What the scheduler knows of one node: its capabilities, its latest heartbeat and the operators' flags.</summary>
internal sealed record NodeRecord(NodeCapabilities Capabilities, NodeHealth? Health, DateTimeOffset? LastHeartbeat)
{
    public bool Cordoned { get; init; }

    public bool Draining { get; init; }

    public string? Straggler { get; init; }

    /// <summary>Takes stages other than the ones it already runs.</summary>
    public bool AcceptsNewStages => !Cordoned && !Draining && Straggler is null;
}
