namespace Cluster.Kernels.Planning;

/// <summary>Models, fleets and batches to plan for out of the box.</summary>
public static class PlannerPresets
{
    /// <summary>
    /// ≈ 494 billion parameters: 120 blocks × d_model 18,432 (144 heads of 128), Llama 3's 128,256-token vocabulary,
    /// 8,192-token context. Blocks: 120 × (12·d² + 13·d) = 489.25 B; embeddings and untied head 4.88 B.
    /// </summary>
    public static ModelShape Decoder500B { get; } = new("decoder-494B", 120, 18_432, 144, 128_256, 8_192);

    /// <summary>≈ 66.5 billion parameters: 80 blocks × d_model 8,192 (64 heads), 128,256 vocabulary, 8,192 context.</summary>
    public static ModelShape Decoder70B { get; } = new("decoder-66B", 80, 8_192, 64, 128_256, 8_192);

    /// <summary>≈ 7.5 billion parameters: 32 blocks × d_model 4,096 (32 heads), 128,256 vocabulary, 8,192 context.</summary>
    public static ModelShape Decoder8B { get; } = new("decoder-7.5B", 32, 4_096, 32, 128_256, 8_192);

    /// <summary>Each preset model with its batch and a fleet size in proportion (the 494B one on 16,384 GPUs, as Llama 3 405B).</summary>
    public static IReadOnlyList<(ModelShape Model, TrainingShape Training, int Gpus)> Models { get; } =
    [
        (Decoder8B, new TrainingShape(GlobalBatchSequences: 512), 512),
        (Decoder70B, new TrainingShape(GlobalBatchSequences: 1_024), 2_048),
        (Decoder500B, new TrainingShape(GlobalBatchSequences: 2_048), 16_384), // 16.8 M tokens per step, as Llama 3 405B
    ];

    /// <summary>The GPU kinds each preset model is planned on: 80 GB and 141 GB.</summary>
    public static IReadOnlyList<Func<int, FleetShape>> FleetKinds { get; } = [FleetShape.H100, FleetShape.H200];
}
