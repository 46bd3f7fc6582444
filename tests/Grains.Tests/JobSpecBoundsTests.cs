using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Config;
using Cluster.Kernels.Training;

namespace Cluster.Grains.Tests;

/// <summary>Every size in a spec has an upper limit; a refusal names the field and the limit, before anything is planned.</summary>
public sealed class JobSpecBoundsTests
{
    private static JobSpec Spec => TinyJob.Spec("bounds", stages: 2);

    public static TheoryData<string, string, string> OverLimit => new()
    {
        { "layers", "model.layers", ModelConfig.MaxLayers.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "dModel", "model.dModel", ModelConfig.MaxDModel.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "heads", "model.heads", ModelConfig.MaxHeads.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "vocab", "model.vocabSize", ModelConfig.MaxVocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "context", "model.contextLength", ModelConfig.MaxContextLength.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "mlp", "model.mlpRatio", ModelConfig.MaxMlpRatio.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "microBatches", "microBatches", JobSpecs.MaxMicroBatches.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "microBatchSize", "microBatchSize", JobSpecs.MaxMicroBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "steps", "steps", JobSpecs.MaxSteps.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "stages", "stages", JobSpecs.MaxStages.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "replicas", "maxReplicas", ReplicaSplit.MaxReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "keep", "keepCheckpoints", JobSpecs.MaxKeepCheckpoints.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "tokens", "microBatchSize", JobSpecs.MaxTokensPerMicroBatch.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "logits", "microBatchSize", JobSpecs.MaxActivationElements.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };

    private static JobSpec Over(string field) => field switch
    {
        "layers" => Spec with { Model = Spec.Model with { Layers = 10_000_000, DModel = 1, Heads = 1 }, Stages = 1 },
        "dModel" => Spec with { Model = Spec.Model with { DModel = ModelConfig.MaxDModel * 2 } },
        "heads" => Spec with { Model = Spec.Model with { Heads = int.MaxValue } },
        "vocab" => Spec with { Model = Spec.Model with { VocabSize = int.MaxValue } },
        "context" => Spec with { Model = Spec.Model with { ContextLength = 1 << 30 } },
        "mlp" => Spec with { Model = Spec.Model with { MlpRatio = 1000 } },
        "microBatches" => Spec with { MicroBatches = 1_000_000_000 },
        "microBatchSize" => Spec with { MicroBatchSize = 1_000_000 },
        "steps" => Spec with { Steps = int.MaxValue },
        "stages" => Spec with { Model = Spec.Model with { Layers = 1000 }, Stages = 1002 },
        "replicas" => Spec with { MaxReplicas = 1 << 20 },
        "keep" => Spec with { KeepCheckpoints = int.MaxValue },
        "tokens" => Spec with { Model = Spec.Model with { ContextLength = 65_536 }, MicroBatchSize = 4096 },
        "logits" => Spec with { Model = Spec.Model with { ContextLength = 4096, VocabSize = 1 << 20 }, MicroBatchSize = 1024 },
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    [Theory]
    [MemberData(nameof(OverLimit))]
    public void A_size_over_its_limit_is_refused_naming_the_field_and_the_limit(string field, string path, string limit)
    {
        var problems = JobSpecs.Validate(Over(field));
        Assert.Contains(problems, p => p.StartsWith(path, StringComparison.Ordinal) && p.Contains(limit, StringComparison.Ordinal));
    }

    [Fact]
    public void The_largest_spec_within_every_limit_validates_and_plans()
    {
        var spec = Spec with
        {
            Model = new ModelSpec { Layers = ModelConfig.MaxLayers, DModel = 64, Heads = 4, VocabSize = 256, ContextLength = 64 },
            Stages = JobSpecs.MaxStages,
            MicroBatches = JobSpecs.MaxMicroBatches,
            MicroBatchSize = 16,
            Steps = JobSpecs.MaxSteps,
            MaxReplicas = ReplicaSplit.MaxReplicas,
        };
        Assert.Empty(JobSpecs.Validate(spec));
        var plan = JobSpecs.PlanOf(spec);
        Assert.Equal(JobSpecs.MaxStages, plan.StageCount);
        Assert.Equal(JobSpecs.MaxStages, JobSpecs.Demands(spec, plan).Count);
    }

    [Theory]
    [InlineData("job\n")]
    [InlineData("job\r\n")]
    [InlineData("\njob")]
    [InlineData("job\u0000")]
    public void A_job_id_with_a_line_break_or_control_character_is_refused_without_echoing_it(string jobId)
    {
        var problems = JobSpecs.Validate(Spec with { JobId = jobId });
        var problem = Assert.Single(problems, p => p.StartsWith("jobId:", StringComparison.Ordinal));
        Assert.DoesNotContain('\n', problem);
        Assert.DoesNotContain('\0', problem);
    }

    [Fact]
    public void Layer_counts_that_would_overflow_a_sum_are_refused_not_thrown()
    {
        var problems = JobSpecs.Validate(Spec with { LayersPerStage = [int.MaxValue, int.MaxValue] });
        Assert.Contains(problems, p => p.StartsWith("layersPerStage:", StringComparison.Ordinal));
        var tooMany = JobSpecs.Validate(Spec with { Stages = 100_000, LayersPerStage = new int[100_000] });
        Assert.Contains(tooMany, p => p.StartsWith("layersPerStage:", StringComparison.Ordinal) && p.Contains(JobSpecs.MaxStages.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [Fact]
    public void A_hostile_data_source_string_is_refused_before_any_file_is_looked_at()
    {
        bool asked = false;
        var problems = JobSpecs.Validate(Spec with { DataSource = "corpus\n.txt" }, null, (Func<string, string?>)(_ =>
        {
            asked = true;
            return null;
        }));
        Assert.Contains(problems, p => p.StartsWith("dataSource:", StringComparison.Ordinal) && p.Contains("control characters", StringComparison.Ordinal));
        Assert.False(asked);
        Assert.Contains(JobSpecs.Validate(Spec with { DataSource = "x" }, null, (Func<string, string?>)(_ => "refused because")), p => p == "dataSource: refused because");
    }

    [Fact]
    public void The_issue_spec_with_ten_million_layers_is_refused_at_once()
    {
        var problems = JobSpecs.Validate(Spec with { Model = new ModelSpec { Layers = 10_000_000, DModel = 1, Heads = 1 }, Stages = 1 });
        Assert.Contains(problems, p => p.StartsWith("model.layers", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.StartsWith("stages", StringComparison.Ordinal)); // no planning for a model that is refused
    }
}
