using Cluster.Grains.Interfaces.Events;

namespace Cluster.Grains.Events;

/// <summary>
/// The head record of a job's event log: the number the next event gets, which sealed chunks are kept, and the events
/// after the last sealed chunk. Ids are append-only.
/// </summary>
[GenerateSerializer, Alias("cluster.JobEventLogState")]
public sealed class JobEventLogState
{
    /// <summary>Number of the next event (events count from 1).</summary>
    [Id(0)] public long Next { get; set; } = 1;

    /// <summary>Oldest sealed chunk still kept (chunks before it were dropped).</summary>
    [Id(1)] public int FirstChunk { get; set; }

    /// <summary>Chunks 0 … SealedChunks-1 are sealed; the events after them are in <see cref="Tail"/>.</summary>
    [Id(2)] public int SealedChunks { get; set; }

    [Id(3)] public List<JobEventRecord> Tail { get; set; } = [];
}
