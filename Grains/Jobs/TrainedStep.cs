namespace Cluster.Grains.Jobs;

/// <summary>
/// A step whose update every stage has applied but that the job has not counted yet: it counts only once its state is
/// held as the job's commit point requires (<c>TrainingJobGrain.CountStep</c>). <see cref="StartedAt"/>: when it
/// started, on the job's clock (<see cref="StartedTimestamp"/> times it).
/// </summary>
internal sealed record TrainedStep(long Step, double Loss, long StartedTimestamp, double ComputeMs, double QueueMs, double MessagingMs, double ReduceMs, double[] DeviceMs,
    DateTimeOffset StartedAt);
