namespace Cluster.Grains.Interfaces.Events;

/// <summary>
/// One failure, decision or recovery, published on <see cref="Jobs.JobStreams.EventsNamespace"/> for the console and
/// the benchmarks. <see cref="Step"/> is the job's completed steps when it happened; <see cref="StepsLost"/> counts
/// the completed steps a recovery had to recompute; <see cref="Seconds"/> is the time since the failure was noticed;
/// <see cref="Reason"/> is why an operator acted (<c>--reason</c> of drain, cordon, cancel, pause, update, delete), if given.
/// Events of a job are also kept in its <see cref="IJobEventLogGrain"/>.
/// <see cref="Principal"/> names who asked for it when an operator did (null for the cluster's own decisions).
/// <see cref="Team"/> is the team of the job it is about (null for an event with no job): principals limited to teams
/// see only their teams' job events.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.ClusterEvent")]
public sealed record ClusterEvent(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] ClusterEventKind Kind,
    [property: Id(2)] string? JobId,
    [property: Id(3)] string? NodeId,
    [property: Id(4)] long Epoch,
    [property: Id(5)] long Step,
    [property: Id(6)] long StepsLost,
    [property: Id(7)] double? Seconds,
    [property: Id(8)] string Message,
    [property: Id(10)] string? Reason = null,
    [property: Id(9)] string? Principal = null,
    [property: Id(11)] string? Team = null);
