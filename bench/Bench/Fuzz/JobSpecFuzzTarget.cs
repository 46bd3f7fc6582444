using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Jobs;

namespace Cluster.Bench.Fuzz;

/// <summary>Job specs with edge-biased sizes and junk strings. Promise: a list of problems (never an exception), and a spec without problems plans.</summary>
internal sealed class JobSpecFuzzTarget : IFuzzTarget
{
    private static readonly string?[] s_texts = ["ok", "1f1b", "gpipe", "auto", "off", "default", "synthetic", null, "", " ", "job\n", "../../etc/passwd", "/proc/self/environ", new('x', 5000)];

    public string Name => "job-specs";

    public bool Run(Random random)
    {
        int Size() => random.Next(3) == 0 ? HostileBytes.EdgeInt(random) : 1 + random.Next(random.Next(2) == 0 ? 8 : 2048);
        string? Text() => s_texts[random.Next(s_texts.Length)];
        var spec = new JobSpec
        {
            JobId = Text()!,
            Model = new ModelSpec { VocabSize = Size(), ContextLength = Size(), DModel = 16 * (1 + random.Next(8)) * (random.Next(8) == 0 ? Size() : 1), Layers = Size(), Heads = 1 << random.Next(4), MlpRatio = Size() },
            Optimizer = new OptimizerSpec { LearningRate = random.Next(4) == 0 ? double.NaN : 1e-3, WarmupSteps = Size(), DecaySteps = Size() },
            Stages = Size(),
            MicroBatches = random.Next(2) == 0 ? 1 << random.Next(12) : Size(),
            MicroBatchSize = Size(),
            Steps = Size(),
            CheckpointInterval = Size(),
            KeepCheckpoints = Size(),
            Schedule = Text()!,
            ScaleUp = Text()!,
            Team = Text()!,
            LayersPerStage = random.Next(4) == 0 ? [.. Enumerable.Range(0, random.Next(6)).Select(_ => Size())] : null,
            MinReplicas = Size(),
            MaxReplicas = Size(),
            DataSource = Text()!,
        };
        if (random.Next(2) == 0)
            spec = NearValid(random, Size);
        if (JobSpecs.Validate(spec).Count > 0)
            return false;
        var plan = JobSpecs.PlanOf(spec);
        _ = JobSpecs.Demands(spec, plan);
        return true;
    }

    /// <summary>A small valid spec with one or two sizes replaced, so planning runs as often as refusing.</summary>
    private static JobSpec NearValid(Random random, Func<int> size)
    {
        var spec = new JobSpec
        {
            JobId = "near",
            Model = new ModelSpec { VocabSize = 256, ContextLength = 16, DModel = 32, Layers = 1 + random.Next(64), Heads = 4 },
            Stages = 1 + random.Next(3),
            MicroBatches = 1 << random.Next(6),
            MicroBatchSize = 1 + random.Next(8),
            Steps = 100,
        };
        return random.Next(5) switch
        {
            0 => spec with { Model = spec.Model with { Layers = size() }, Stages = size() },
            1 => spec with { Model = spec.Model with { ContextLength = size(), VocabSize = size() } },
            2 => spec with { MicroBatches = size(), MicroBatchSize = size() },
            3 => spec with { Stages = 1 + random.Next(spec.Model.Layers + 2) },
            _ => spec with { LayersPerStage = [.. Enumerable.Range(0, spec.Stages).Select(_ => size())] },
        };
    }
}
