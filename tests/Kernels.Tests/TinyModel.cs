using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Tests;

/// <summary>The tiny model every test trains: 4 layers, d_model 32, context 16 — seconds on 2 cores.</summary>
internal static class TinyModel
{
    public static readonly ModelConfig Config = new()
    {
        VocabSize = 256,
        ContextLength = 16,
        DModel = 32,
        Layers = 4,
        Heads = 4,
        MlpRatio = 4,
        Seed = 1234,
    };

    public static TrainerOptions Options(int microBatches = 4, int steps = 20) => new()
    {
        Model = Config,
        Optimizer = new OptimizerConfig { LearningRate = 1e-2, MinLearningRate = 1e-3, WarmupSteps = 3, DecaySteps = steps, ClipNorm = 0.5 },
        MicroBatchSize = 4,
        MicroBatches = microBatches,
        DataSeed = 99,
        Device = Device,
    };

    /// <summary>Where the tests train: "cpu" unless <c>CLUSTER_TEST_DEVICE</c> says otherwise (build/gpu-check.sh sets "cuda").</summary>
    public static string Device => Environment.GetEnvironmentVariable("CLUSTER_TEST_DEVICE") is { Length: > 0 } device ? device : "cpu";

    public static readonly ITokenSource Corpus = SyntheticCorpus.Source(seed: 3, bytes: 64 * 1024);

    /// <summary>A wire tensor of <paramref name="dtype"/> and <paramref name="shape"/> filled with seeded random bytes.</summary>
    public static WireTensor RandomTensor(WireDType dtype, long[] shape, int seed)
    {
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        var data = new byte[elements * WireDTypes.ElementSize(dtype)];
        new Random(seed).NextBytes(data);
        return new WireTensor(dtype, shape, data);
    }

    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "cluster-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
