using Cluster.Grains.Interfaces.Events;

namespace Cluster.Grains.Events;

/// <summary>A sealed block of <see cref="JobEventLogGrain.ChunkSize"/> consecutive events of a job, written once. Ids are append-only.</summary>
[GenerateSerializer, Alias("cluster.JobEventChunk")]
public sealed class JobEventChunk
{
    [Id(0)] public List<JobEventRecord> Events { get; set; } = [];
}
