namespace Cluster.Grains.Interfaces.Messages;

/// <summary>A GPT decoder's shape and seed, as a job spec carries it (mirrors Kernels' ModelConfig).</summary>
[GenerateSerializer, Immutable, Alias("cluster.ModelSpec")]
public sealed record ModelSpec
{
    [Id(0)] public int VocabSize { get; init; } = 256;
    [Id(1)] public int ContextLength { get; init; } = 128;
    [Id(2)] public int DModel { get; init; } = 128;
    [Id(3)] public int Layers { get; init; } = 4;
    [Id(4)] public int Heads { get; init; } = 4;
    [Id(5)] public int MlpRatio { get; init; } = 4;
    [Id(6)] public long Seed { get; init; } = 1337;
}
