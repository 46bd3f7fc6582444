using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Views;

/// <summary>One progress update of <c>job watch --json</c>; <see cref="Type"/> is always "progress"; <see cref="Replicas"/>: data-parallel replicas running at that point.</summary>
internal sealed record ProgressView(string JobId, JobState State, long Epoch, long Step, long TotalSteps, double? Loss, double TokensPerSecond, double? EtaSeconds, DateTimeOffset At, string? Message, int Replicas = 1)
{
    public string Type => "progress";

    public static ProgressView From(JobProgress p) => new(p.JobId, p.State, p.Epoch, p.Step, p.TotalSteps, p.Loss,
        Math.Round(p.TokensPerSecond, 1), p.Eta?.TotalSeconds is { } eta ? Math.Round(eta, 1) : null, p.At, p.Message, p.Replicas);
}
