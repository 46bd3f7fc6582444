namespace Cluster.Grains.Scheduling;

/// <summary>What the scheduler persists: operators' settings only — quotas and node marks (nodes and placements are rebuilt from heartbeats and jobs).</summary>
[GenerateSerializer, Alias("cluster.SchedulerState")]
public sealed class SchedulerState
{
    /// <summary>Team → most nodes its jobs may hold at once.</summary>
    [Id(0)] public Dictionary<string, int> Quotas { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Node → an operator's cordon or drain (until uncordoned): a scheduler that re-activates (its silo died, it
    /// migrated) applies it when the node registers again, so an operator's decision outlives the scheduler.
    /// </summary>
    [Id(1)] public Dictionary<string, OperatorNodeMark> NodeMarks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Node → the parsable address of the silo incarnation whose graceful shutdown drains it (<c>DrainLeaving</c>), so a
    /// scheduler re-activated while that silo leaves keeps moving stages off it; dropped once a new incarnation is active.
    /// </summary>
    [Id(2)] public Dictionary<string, string> LeavingNodes { get; set; } = new(StringComparer.Ordinal);
}
