using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Training;

namespace Cluster.Grains.Tests;

/// <summary>The tiny model every cluster test trains, and its ground truth from the reference trainer.</summary>
internal static class TinyJob
{
    public static JobSpec Spec(string jobId, int stages = 4, int steps = 30, int checkpointInterval = 10) => new()
    {
        JobId = jobId,
        Model = new ModelSpec { VocabSize = 256, ContextLength = 16, DModel = 32, Layers = 4, Heads = 4, MlpRatio = 4, Seed = 1234 },
        Optimizer = new OptimizerSpec { LearningRate = 1e-2, MinLearningRate = 1e-3, WarmupSteps = 3, ClipNorm = 0.5 },
        Stages = stages,
        MicroBatches = 4,
        MicroBatchSize = 4,
        Steps = steps,
        CheckpointInterval = checkpointInterval,
        KeepCheckpoints = 3,
        DataSource = "synthetic",
        DataSeed = 99,
    };

    /// <summary>Trainer options equal to what the cluster runs for <paramref name="spec"/> (one thread, like the device workers).</summary>
    public static TrainerOptions ReferenceOptions(JobSpec spec) => JobSpecs.ToTrainerOptions(spec, threads: 1);

    /// <summary>The reference trainer's losses for the whole spec, or its first <paramref name="steps"/> (same schedule).</summary>
    public static double[] ReferenceLosses(JobSpec spec, int? steps = null)
    {
        using var trainer = new ReferenceTrainer(ReferenceOptions(spec), TokenSources.Open(spec.DataSource));
        return Enumerable.Range(0, steps ?? spec.Steps).Select(_ => trainer.TrainStep().Loss).ToArray();
    }
}
