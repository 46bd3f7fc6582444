namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>
/// What the scheduler needs to order a job against others: its priority (higher first; lower-priority jobs are
/// preempted for it), its team (quotas, fair sharing) and when it was submitted (first come, first served among equals).
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.JobTicket")]
public sealed record JobTicket(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Priority,
    [property: Id(2)] string Team,
    [property: Id(3)] DateTimeOffset SubmittedAt);
