namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>An operator's change to a job's spec (<c>job update</c>): null leaves a value as it is.</summary>
[GenerateSerializer, Immutable, Alias("cluster.JobUpdate")]
public sealed record JobUpdate(
    [property: Id(0)] int? Priority,
    [property: Id(1)] int? MaxReplicas,
    [property: Id(2)] string? Reason = null);
