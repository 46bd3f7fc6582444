namespace Cluster.Kernels.Config;

/// <summary>
/// The model of the README's main job and of the benchmarks: byte-level, context 128, d_model 128, 4 layers,
/// 4 heads (≈ 0.87 M parameters), 4 micro-batches of 8 sequences (4,096 tokens per step). Sized to show a clearly
/// falling loss in a few minutes on a 2-core CPU.
/// </summary>
public static class DemoPreset
{
    public static readonly ModelConfig Model = new()
    {
        VocabSize = 256,
        ContextLength = 128,
        DModel = 128,
        Layers = 4,
        Heads = 4,
        MlpRatio = 4,
        Seed = 1337,
    };

    public const int Steps = 300;

    public static TrainerOptions Options(int steps = Steps) => new()
    {
        Model = Model,
        Optimizer = new OptimizerConfig { LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = Math.Min(20, steps), DecaySteps = Math.Max(1, steps) },
        MicroBatchSize = 8,
        MicroBatches = 4,
        DataSeed = 42,
    };
}
