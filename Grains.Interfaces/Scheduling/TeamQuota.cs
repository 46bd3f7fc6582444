namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>A team's node limit (null: none) and the nodes its running jobs hold now.</summary>
[GenerateSerializer, Immutable, Alias("cluster.TeamQuota")]
public sealed record TeamQuota(
    [property: Id(0)] string Team,
    [property: Id(1)] int? MaxNodes,
    [property: Id(2)] int NodesInUse,
    [property: Id(3)] int RunningJobs);
