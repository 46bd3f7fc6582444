namespace Cluster.Grains.Scheduling;

/// <summary>What the scheduler persists: operators' settings only (nodes and placements are rebuilt from heartbeats and jobs).</summary>
[GenerateSerializer, Alias("cluster.SchedulerState")]
public sealed class SchedulerState
{
    /// <summary>Team → most nodes its jobs may hold at once.</summary>
    [Id(0)] public Dictionary<string, int> Quotas { get; set; } = new(StringComparer.Ordinal);
}
