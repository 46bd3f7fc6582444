using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Jobs;
using CsCheck;

namespace Cluster.Grains.Tests;

/// <summary>Whatever a client sends as a spec, validation returns problems (never throws), and a spec it accepts plans.</summary>
public sealed class HostileJobSpecTests
{
    /// <summary>Integers biased to the edges: negatives, zero, small valid values, limits and their neighbours, extremes.</summary>
    private static readonly Gen<int> s_size = Gen.Frequency(
        (4, Gen.Int[1, 8]),
        (2, Gen.OneOf<int>(0, -1, int.MinValue, int.MaxValue, 16, 32, 64, 256, 1023, 1024, 1025, 4096, 4097, 65_536, 1 << 20, (1 << 20) + 1)),
        (1, Gen.Int));

    private static readonly Gen<string?> s_text = Gen.Frequency(
        (3, Gen.OneOf<string?>("ok", "1f1b", "gpipe", "auto", "off", "default", "synthetic")),
        (1, Gen.OneOf<string?>(null, "", " ", "job\n", "a/../../etc/passwd", "/proc/self/environ", new string('x', 10_000))),
        (1, Gen.String.Select(s => (string?)s)));

    private static readonly Gen<JobSpec> s_specs =
        Gen.Select(
            Gen.Select(s_size, s_size, s_size, s_size, s_size, s_size),
            Gen.Select(s_size, s_size, s_size, s_size, s_size, s_size),
            Gen.Select(s_text, s_text, s_text, s_text, s_size.Array[0, 6].Null()),
            Gen.Select(s_size, s_size, s_size, Gen.Double, Gen.Long))
        .Select((model, sizes, texts, rest) => new JobSpec
        {
            JobId = texts.Item1!,
            Model = new ModelSpec { VocabSize = model.Item1, ContextLength = model.Item2, DModel = model.Item3, Layers = model.Item4, Heads = model.Item5, MlpRatio = model.Item6 },
            Optimizer = new OptimizerSpec { LearningRate = rest.Item4, WarmupSteps = rest.Item1, DecaySteps = rest.Item2 },
            Stages = sizes.Item1,
            MicroBatches = sizes.Item2,
            MicroBatchSize = sizes.Item3,
            Steps = sizes.Item4,
            CheckpointInterval = sizes.Item5,
            KeepCheckpoints = sizes.Item6,
            Schedule = texts.Item2!,
            ScaleUp = texts.Item3!,
            Team = texts.Item4!,
            LayersPerStage = texts.Item5,
            MinReplicas = rest.Item3,
            MaxReplicas = rest.Item3,
            DataSeed = rest.Item5,
            DataSource = texts.Item1!,
        });

    [Fact]
    public void Any_spec_validates_without_throwing_and_a_valid_one_plans() =>
        s_specs.Sample(spec =>
        {
            var problems = JobSpecs.Validate(spec);
            Assert.All(problems, p => Assert.DoesNotContain('\n', p));
            if (problems.Count > 0) return;
            var plan = JobSpecs.PlanOf(spec);
            Assert.Equal(spec.Stages, plan.StageCount);
            Assert.All(JobSpecs.Demands(spec, plan), d => Assert.True(d.MemoryBytes > 0));
        }, iter: 3000);

    [Fact]
    public void Specs_near_the_valid_region_validate_consistently_and_plan()
    {
        int planned = 0;
        Gen.Select(Gen.Int[0, 80], Gen.Int[1, 8], Gen.OneOf<int>(1, 2, 4, 3), Gen.Int[1, 5000], Gen.Int[1, 300], Gen.Int[0, 90], Gen.Int[0, 6], Gen.Int[0, 300])
            .Sample(t =>
            {
                var (layers, width, heads, vocab, context, stages, microBatchesLog, rows) = t;
                var spec = TinyJob.Spec("near") with
                {
                    Model = new ModelSpec { Layers = layers, DModel = 16 * width, Heads = heads, VocabSize = vocab, ContextLength = context },
                    Stages = stages,
                    MicroBatches = 1 << microBatchesLog,
                    MicroBatchSize = rows,
                };
                var problems = JobSpecs.Validate(spec);
                bool shouldBeValid = layers >= 1 && (16 * width) % heads == 0 && vocab >= 2 && stages >= 1 && stages <= layers + 2 && rows >= 1;
                Assert.Equal(shouldBeValid, problems.Count == 0);
                if (!shouldBeValid) return;
                var plan = JobSpecs.PlanOf(spec);
                Assert.Equal(layers + 2, plan.UnitsPerStage.Sum());
                Assert.Equal(stages, JobSpecs.Demands(spec, plan).Count);
                Interlocked.Increment(ref planned);
            }, iter: 2000);
        Assert.True(planned > 100, $"only {planned} of 2000 generated specs were valid: the generator misses the valid region");
    }
}
