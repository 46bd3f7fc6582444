using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Jobs;

/// <summary>What a job persists: enough to carry on after the silo hosting it dies. Ids are append-only.</summary>
[GenerateSerializer, Alias("cluster.JobGrainState")]
public sealed class JobGrainState
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public long Epoch { get; set; }
    [Id(3)] public long CompletedSteps { get; set; }
    [Id(4)] public List<double> LossHistory { get; set; } = [];
    [Id(5)] public List<StagePlacement> Placement { get; set; } = [];
    [Id(6)] public long? LastCheckpointStep { get; set; }
    [Id(7)] public string? Error { get; set; }
    [Id(8)] public DateTimeOffset? SubmittedAt { get; set; }
    [Id(9)] public DateTimeOffset UpdatedAt { get; set; }
}
