using Cluster.Grains.Interfaces.Messages;

namespace Cluster.Grains.Interfaces.Stages;

/// <summary>
/// What comes back up the pipeline after a micro-batch's forward and backward: the loss (from the last stage), the
/// gradient of the caller's output (null for the first stage's caller), and time spent computing and queueing for the
/// device along the chain (for the benchmark's split).
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.MicroBatchResult")]
public sealed record MicroBatchResult(
    [property: Id(0)] double Loss,
    [property: Id(1)] TensorPayload? InputGradient,
    [property: Id(2)] double ComputeMs,
    [property: Id(3)] double QueueMs);
