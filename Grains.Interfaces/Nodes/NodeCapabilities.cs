namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>What a node offers, sent once when it registers with the scheduler.</summary>
[GenerateSerializer, Immutable, Alias("cluster.NodeCapabilities")]
public sealed record NodeCapabilities(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string SiloName,
    [property: Id(2)] string Device,
    [property: Id(3)] long MemoryBytes,
    [property: Id(4)] double GigaflopsMeasured,
    [property: Id(5)] int Threads);
