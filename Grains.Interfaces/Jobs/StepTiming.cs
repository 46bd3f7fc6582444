namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// Where a step's time went, from the job's point of view. Compute and queueing are summed over micro-batches and
/// stages; messaging is each micro-batch's round trip minus the compute and queueing along its chain, summed; the
/// reduce-and-update part is the clip-norm reduction and the optimizer step. <see cref="StartedAt"/> is when the
/// job started the step (its clock): with steps overlapping their snapshots, <see cref="WallMs"/> (start to count) of
/// one step overlaps the next one's, and the time from one step's start to the next one's is what each step costs.
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.StepTiming")]
public sealed record StepTiming(
    [property: Id(0)] long Step,
    [property: Id(1)] double WallMs,
    [property: Id(2)] double ComputeMs,
    [property: Id(3)] double QueueMs,
    [property: Id(4)] double MessagingMs,
    [property: Id(5)] double ReduceAndUpdateMs,
    [property: Id(6)] DateTimeOffset StartedAt = default);
