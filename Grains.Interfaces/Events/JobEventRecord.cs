namespace Cluster.Grains.Interfaces.Events;

/// <summary>One recorded event of a job and its number in the job's history (from 1, never reused).</summary>
[GenerateSerializer, Immutable, Alias("cluster.JobEventRecord")]
public sealed record JobEventRecord(
    [property: Id(0)] long Seq,
    [property: Id(1)] ClusterEvent Event);
