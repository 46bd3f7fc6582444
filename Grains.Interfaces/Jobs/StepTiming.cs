namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// Where a step's time went, from the job's point of view. Compute and queueing are summed over micro-batches and
/// stages; messaging is each micro-batch's round trip minus the compute and queueing along its chain, summed; the
/// reduce-and-update part is the clip-norm reduction and the optimizer step.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.StepTiming")]
public sealed record StepTiming(
    [property: Id(0)] long Step,
    [property: Id(1)] double WallMs,
    [property: Id(2)] double ComputeMs,
    [property: Id(3)] double QueueMs,
    [property: Id(4)] double MessagingMs,
    [property: Id(5)] double ReduceAndUpdateMs);
