namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>The scheduler's answer: a node per stage, or a refusal with its kind (to switch on) and the reason (to read).</summary>
[GenerateSerializer, Immutable, Alias("cluster.PlacementDecision")]
public sealed record PlacementDecision(
    [property: Id(0)] bool Placed,
    [property: Id(1)] IReadOnlyList<string> NodeByStage,
    [property: Id(2)] string? Reason)
{
    /// <summary><see cref="PlacementRefusal.None"/> when placed.</summary>
    [Id(3)]
    public PlacementRefusal Refusal { get; init; }

    public static PlacementDecision Refused(PlacementRefusal kind, string reason) => new(false, [], reason) { Refusal = kind };
}
