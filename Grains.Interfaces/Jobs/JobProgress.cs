namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>Published on the job's progress stream after every step and on every state change (<see cref="Replicas"/>: data-parallel replicas running).</summary>
[GenerateSerializer, Immutable, Alias("cluster.JobProgress")]
public sealed record JobProgress(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] long Epoch,
    [property: Id(3)] long Step,
    [property: Id(4)] long TotalSteps,
    [property: Id(5)] double? Loss,
    [property: Id(6)] double TokensPerSecond,
    [property: Id(7)] TimeSpan? Eta,
    [property: Id(8)] DateTimeOffset At,
    [property: Id(9)] string? Message,
    [property: Id(10)] int Replicas = 1);
