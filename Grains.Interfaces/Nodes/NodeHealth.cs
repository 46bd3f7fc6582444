namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>A node's heartbeat: state, step-time percentiles over a window, memory and errors.</summary>
[GenerateSerializer, Immutable, Alias("cluster.NodeHealth")]
public sealed record NodeHealth(
    [property: Id(0)] string NodeId,
    [property: Id(1)] NodeState State,
    [property: Id(2)] long Sequence,
    [property: Id(3)] double StepTimeP50Ms,
    [property: Id(4)] double StepTimeP99Ms,
    [property: Id(5)] long MemoryInUseBytes,
    [property: Id(6)] int ErrorCount,
    [property: Id(7)] string? LastError,
    [property: Id(8)] DateTimeOffset SentAt,
    [property: Id(9)] int ActiveStages);
