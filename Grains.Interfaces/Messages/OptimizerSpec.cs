namespace Cluster.Grains.Interfaces.Messages;

/// <summary>AdamW, learning-rate schedule and clipping of a job (mirrors Kernels' OptimizerConfig).</summary>
[GenerateSerializer, Immutable, Alias("cluster.OptimizerSpec")]
public sealed record OptimizerSpec
{
    [Id(0)] public double LearningRate { get; init; } = 3e-3;
    [Id(1)] public double MinLearningRate { get; init; } = 3e-4;
    [Id(2)] public int WarmupSteps { get; init; } = 10;

    /// <summary>Step at which the cosine reaches its floor; 0 means the job's total steps.</summary>
    [Id(3)] public int DecaySteps { get; init; }
    [Id(4)] public double Beta1 { get; init; } = 0.9;
    [Id(5)] public double Beta2 { get; init; } = 0.95;
    [Id(6)] public double Epsilon { get; init; } = 1e-8;
    [Id(7)] public double WeightDecay { get; init; } = 0.1;
    [Id(8)] public double ClipNorm { get; init; } = 1.0;
}
