namespace Cluster.Grains.Interfaces.Events;

/// <summary>
/// Which events of a job's history to return, oldest first: with <see cref="After"/> the first <see cref="Limit"/>
/// events numbered above it; else with <see cref="Before"/> the last <see cref="Limit"/> numbered below it; else the
/// newest <see cref="Limit"/>. Giving both bounds returns the events strictly between them (still at most Limit, the
/// oldest first). With <see cref="NodeId"/>, only events naming that node count (paging included): a node's history
/// from the <see cref="EventLogKeys.Cluster"/> log.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.JobEventQuery")]
public sealed record JobEventQuery(
    [property: Id(0)] int Limit,
    [property: Id(1)] long? Before = null,
    [property: Id(2)] long? After = null,
    [property: Id(3)] string? NodeId = null);
