namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>What one stage needs: memory for its state and activations, and its relative compute cost.</summary>
[GenerateSerializer, Immutable, Alias("cluster.StageDemand")]
public sealed record StageDemand(
    [property: Id(0)] int Stage,
    [property: Id(1)] long MemoryBytes,
    [property: Id(2)] double Cost);
