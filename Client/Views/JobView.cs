using System.Text.Json.Serialization;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>
/// One job as <c>jobs</c> and the job actions show it. <see cref="Stages"/> counts the pipeline stages placed (those of
/// one replica); <see cref="Replicas"/> the data-parallel replicas running now (0 while the job holds no nodes), within
/// <see cref="MinReplicas"/>–<see cref="MaxReplicas"/>.
/// </summary>
internal sealed record JobView(
    string JobId,
    JobState State,
    long CompletedSteps,
    long TotalSteps,
    double Progress,
    double? LastLoss,
    double TokensPerSecond,
    double? EtaSeconds,
    long Epoch,
    int Stages,
    string? HostSilo,
    long? LastCheckpointStep,
    string? Error,
    DateTimeOffset UpdatedAt,
    int Priority,
    string Team,
    int Replicas,
    int MinReplicas,
    int MaxReplicas)
{
    public static JobView From(JobStatus s) => new(
        s.JobId,
        s.State,
        s.CompletedSteps,
        s.TotalSteps,
        s.TotalSteps > 0 ? Math.Round((double)s.CompletedSteps / s.TotalSteps, 4) : 0,
        s.LastLoss,
        Math.Round(s.TokensPerSecond, 1),
        s.Eta?.TotalSeconds is { } eta ? Math.Round(eta, 1) : null,
        s.Epoch,
        s.Placement.Select(p => p.Stage).Distinct().Count(), // a job with R replicas has R placements of each stage
        s.HostSilo,
        s.LastCheckpointStep,
        s.Error,
        s.UpdatedAt,
        s.Priority,
        s.Team,
        s.Replicas,
        s.MinReplicas,
        s.MaxReplicas);

    [JsonIgnore]
    public bool IsElastic => MinReplicas != MaxReplicas;

    [JsonIgnore]
    public bool IsTerminal => State.IsTerminal();
}
