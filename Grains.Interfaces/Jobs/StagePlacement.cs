namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>Where one stage of one data-parallel replica of a job runs: its node (and that node's silo) and the units it holds.</summary>
[GenerateSerializer, Immutable, Alias("cluster.StagePlacement")]
public sealed record StagePlacement(
    [property: Id(0)] int Stage,
    [property: Id(1)] string NodeId,
    [property: Id(2)] string SiloName,
    [property: Id(3)] int FirstUnit,
    [property: Id(4)] int UnitCount,
    [property: Id(5)] string Units,
    [property: Id(6)] int Replica = 0);
