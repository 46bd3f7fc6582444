namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>A job's state as operators see it.</summary>
[GenerateSerializer, Immutable, Alias("cluster.JobStatus")]
public sealed record JobStatus
{
    [Id(0)] public string JobId { get; init; } = "";
    [Id(1)] public JobState State { get; init; }
    [Id(2)] public long Epoch { get; init; }
    [Id(3)] public long CompletedSteps { get; init; }
    [Id(4)] public long TotalSteps { get; init; }
    [Id(5)] public double? LastLoss { get; init; }
    [Id(6)] public double TokensPerSecond { get; init; }
    [Id(7)] public TimeSpan? Eta { get; init; }
    [Id(8)] public IReadOnlyList<StagePlacement> Placement { get; init; } = [];
    [Id(9)] public long? LastCheckpointStep { get; init; }
    [Id(10)] public string? Error { get; init; }
    [Id(11)] public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The silo hosting the job's grain (its coordinator).</summary>
    [Id(12)] public string? HostSilo { get; init; }

    /// <summary>The spec's priority (higher runs first, preempting lower).</summary>
    [Id(13)] public int Priority { get; init; }

    /// <summary>The spec's team (quotas, fair sharing).</summary>
    [Id(14)] public string Team { get; init; } = "default";

    /// <summary>Data-parallel replicas running now (0 while the job holds no nodes).</summary>
    [Id(15)] public int Replicas { get; init; }

    /// <summary>The spec's replica range.</summary>
    [Id(16)] public int MinReplicas { get; init; } = 1;

    [Id(17)] public int MaxReplicas { get; init; } = 1;
}
