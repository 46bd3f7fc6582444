namespace Cluster.Kernels.Config;

/// <summary>What a training loop needs beyond the model: batch shape, data seed, optimizer, device and threads.</summary>
public sealed record TrainerOptions
{
    public ModelConfig Model { get; init; } = new();

    public OptimizerConfig Optimizer { get; init; } = new();

    /// <summary>Sequences per micro-batch. <value>8.</value></summary>
    public int MicroBatchSize { get; init; } = 8;

    /// <summary>Micro-batches per step (gradient accumulation). <value>4.</value></summary>
    public int MicroBatches { get; init; } = 4;

    /// <summary>Seed of the batch sampler. <value>42.</value></summary>
    public long DataSeed { get; init; } = 42;

    /// <summary>"auto", "cpu", "cuda" or "cuda:N". <value>auto.</value></summary>
    public string Device { get; init; } = "auto";

    /// <summary>libtorch intra-op threads; 0 keeps libtorch's default. <value>0.</value></summary>
    public int Threads { get; init; }

    /// <summary>Tokens per optimizer step.</summary>
    public long TokensPerStep => (long)MicroBatchSize * MicroBatches * Model.ContextLength;

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        problems.AddRange(Model.Validate().Select(p => $"Model.{p}"));
        problems.AddRange(Optimizer.Validate().Select(p => $"Optimizer.{p}"));
        if (MicroBatchSize < 1)
            problems.Add($"{nameof(MicroBatchSize)} = {MicroBatchSize}: must be at least 1 sequence.");
        if (MicroBatches < 1)
            problems.Add($"{nameof(MicroBatches)} = {MicroBatches}: must be at least 1 micro-batch per step.");
        if (Threads < 0)
            problems.Add($"{nameof(Threads)} = {Threads}: cannot be negative (0 keeps libtorch's default).");
        if (string.IsNullOrWhiteSpace(Device))
            problems.Add($"{nameof(Device)} is empty: use 'auto', 'cpu', 'cuda' or 'cuda:N'.");
        return problems;
    }

    public TrainerOptions EnsureValid()
    {
        var problems = Validate();
        if (problems.Count > 0)
            throw new ConfigValidationException("Trainer options", problems);
        return this;
    }
}
