namespace Cluster.Grains.Interfaces.Events;

/// <summary>
/// A page of a job's history, oldest first. <see cref="FirstKept"/>..<see cref="Last"/> are the numbers the log still
/// holds (Last 0: nothing recorded); <see cref="Dropped"/> older events were dropped to keep the log bounded.
/// <see cref="MoreBefore"/>/<see cref="MoreAfter"/>: kept events outside this page on either side.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.JobEventPage")]
public sealed record JobEventPage(
    [property: Id(0)] IReadOnlyList<JobEventRecord> Events,
    [property: Id(1)] long FirstKept,
    [property: Id(2)] long Last,
    [property: Id(3)] long Dropped,
    [property: Id(4)] bool MoreBefore,
    [property: Id(5)] bool MoreAfter);
