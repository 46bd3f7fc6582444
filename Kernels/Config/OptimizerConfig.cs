namespace Cluster.Kernels.Config;

/// <summary>AdamW, learning-rate schedule (linear warm-up then cosine decay) and global-norm gradient clipping.</summary>
public sealed record OptimizerConfig
{
    /// <summary>Peak learning rate. <value>3e-3.</value></summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Floor of the cosine decay. <value>3e-4.</value></summary>
    public double MinLearningRate { get; init; } = 3e-4;

    /// <summary>Steps of linear warm-up from 0 to the peak. <value>10.</value></summary>
    public int WarmupSteps { get; init; } = 10;

    /// <summary>Step at which the cosine reaches the floor (usually the job's total steps). <value>200.</value></summary>
    public int DecaySteps { get; init; } = 200;

    /// <summary>AdamW β1. <value>0.9.</value></summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β2. <value>0.95.</value></summary>
    public double Beta2 { get; init; } = 0.95;

    /// <summary>AdamW ε. <value>1e-8.</value></summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay on matrices and embeddings (not on biases or norms). <value>0.1.</value></summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Global gradient-norm clip; 0 turns clipping off. <value>1.0.</value></summary>
    public double ClipNorm { get; init; } = 1.0;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            problems.Add($"{nameof(LearningRate)} = {LearningRate}: must be a positive finite number (e.g. 3e-4).");
        if (!(MinLearningRate >= 0) || MinLearningRate > LearningRate)
            problems.Add($"{nameof(MinLearningRate)} = {MinLearningRate}: must be between 0 and {nameof(LearningRate)} ({LearningRate}).");
        if (WarmupSteps < 0)
            problems.Add($"{nameof(WarmupSteps)} = {WarmupSteps}: cannot be negative (0 disables warm-up).");
        if (DecaySteps < 1)
            problems.Add($"{nameof(DecaySteps)} = {DecaySteps}: must be at least 1 (usually the job's total steps).");
        else if (WarmupSteps > DecaySteps)
            problems.Add($"{nameof(WarmupSteps)} = {WarmupSteps} exceeds {nameof(DecaySteps)} = {DecaySteps}: warm-up must end before the decay does.");
        if (!(Beta1 >= 0 && Beta1 < 1))
            problems.Add($"{nameof(Beta1)} = {Beta1}: must be in [0, 1).");
        if (!(Beta2 >= 0 && Beta2 < 1))
            problems.Add($"{nameof(Beta2)} = {Beta2}: must be in [0, 1).");
        if (!(Epsilon > 0))
            problems.Add($"{nameof(Epsilon)} = {Epsilon}: must be positive (e.g. 1e-8).");
        if (!(WeightDecay >= 0))
            problems.Add($"{nameof(WeightDecay)} = {WeightDecay}: cannot be negative.");
        if (!(ClipNorm >= 0) || double.IsInfinity(ClipNorm))
            problems.Add($"{nameof(ClipNorm)} = {ClipNorm}: must be 0 (off) or a positive finite norm.");
        return problems;
    }

    public OptimizerConfig EnsureValid()
    {
        var problems = Validate();
        if (problems.Count > 0)
            throw new ConfigValidationException("Optimizer config", problems);
        return this;
    }
}
