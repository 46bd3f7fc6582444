namespace Cluster.Kernels.Training;

/// <summary>What one optimizer step produced. <see cref="Loss"/> is the canonical mean of <see cref="MicroBatchLosses"/>.</summary>
public sealed record StepResult(
    long Step,
    double Loss,
    IReadOnlyList<double> MicroBatchLosses,
    double GradientNorm,
    double LearningRate,
    long Tokens,
    TimeSpan Elapsed);
