namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>The scheduler's answer: a node per stage, or a refusal with the reason.</summary>
[GenerateSerializer, Immutable, Alias("cluster.PlacementDecision")]
public sealed record PlacementDecision(
    [property: Id(0)] bool Placed,
    [property: Id(1)] IReadOnlyList<string> NodeByStage,
    [property: Id(2)] string? Reason)
{
    public static PlacementDecision Refused(string reason) => new(false, [], reason);
}
