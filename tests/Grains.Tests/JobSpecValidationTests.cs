using Cluster.Kernels.Model;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

public sealed class JobSpecValidationTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Every_bad_field_gets_its_own_message_with_its_path()
    {
        var spec = TinyJob.Spec("bad-spec") with
        {
            Model = new ModelSpec { VocabSize = 256, ContextLength = 16, DModel = 30, Layers = 0, Heads = 4 },
            Optimizer = new OptimizerSpec { LearningRate = -1 },
            MicroBatches = 0,
            MicroBatchSize = 0,
            Steps = 0,
            CheckpointInterval = -1,
            KeepCheckpoints = 0,
            Schedule = "zigzag",
            DataSource = "/no/such/corpus.txt",
        };
        var error = await Assert.ThrowsAsync<JobSpecInvalidException>(() => fixture.Client.GetGrain<ITrainingJobGrain>("bad-spec").Submit(spec));
        string[] expectedPaths = ["model.dModel", "model.layers", "optimizer.learningRate", "microBatches", "microBatchSize", "steps", "checkpointInterval", "keepCheckpoints", "schedule", "dataSource"];
        foreach (string path in expectedPaths)
            Assert.Contains(error.Problems, p => p.StartsWith(path, StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("/no/such/corpus.txt", StringComparison.Ordinal));
        Assert.Equal(JobState.Pending, (await fixture.Client.GetGrain<ITrainingJobGrain>("bad-spec").GetStatus()).State);
        Assert.Null(await fixture.Client.GetGrain<ITrainingJobGrain>("bad-spec").GetSpec()); // nothing was accepted
    }

    [Fact]
    public void Stage_counts_and_explicit_cuts_are_checked()
    {
        var tooMany = JobSpecs.Validate(TinyJob.Spec("x", stages: 7));
        Assert.Contains(tooMany, p => p.StartsWith("stages:", StringComparison.Ordinal) && p.Contains("between 1 and 6", StringComparison.Ordinal));
        var badCut = JobSpecs.Validate(TinyJob.Spec("x", stages: 3) with { LayersPerStage = [1, 1] });
        Assert.Contains(badCut, p => p.StartsWith("layersPerStage:", StringComparison.Ordinal) && p.Contains("add up to 2", StringComparison.Ordinal));
        Assert.Contains(badCut, p => p.StartsWith("stages:", StringComparison.Ordinal) && p.Contains("2 entries", StringComparison.Ordinal));
        Assert.Contains(JobSpecs.Validate(TinyJob.Spec("bad id!")), p => p.StartsWith("jobId:", StringComparison.Ordinal));
        Assert.Empty(JobSpecs.Validate(TinyJob.Spec("ok", stages: 2) with { LayersPerStage = [1, 3] }));
    }

    /// <summary>
    /// A data-parallel stage's gradients are all-reduced as one float32 vector, so with replicas a stage holds at most
    /// <see cref="Array.MaxLength"/> parameters: three blocks of d_model 8192 (≈ 805 M parameters each) on one stage are
    /// refused at submission with the fix, not left to overflow at the first step; one block a stage, or one replica, is fine.
    /// </summary>
    [Fact]
    public void A_data_parallel_stage_larger_than_one_gradient_vector_is_refused_with_the_fix()
    {
        var large = new ModelSpec { VocabSize = 256, ContextLength = 16, DModel = 8192, Layers = 3, Heads = 4 };
        var together = TinyJob.Spec("dp-large", stages: 1) with { Model = large, MinReplicas = 1, MaxReplicas = 2 };
        string problem = Assert.Single(JobSpecs.Validate(together));
        Assert.StartsWith("maxReplicas: 2", problem, StringComparison.Ordinal);
        Assert.Contains($"stage 0 holds {JobSpecs.ToModelConfig(large).ParameterCount}", problem, StringComparison.Ordinal); // the whole model
        Assert.InRange(ModelLayout.UnitParameters(JobSpecs.ToModelConfig(large), 1), 800_000_000, Array.MaxLength / 2); // a block alone fits
        Assert.Contains("more stages", problem, StringComparison.Ordinal);
        Assert.Empty(JobSpecs.Validate(together with { Stages = 5 }));
        Assert.Empty(JobSpecs.Validate(together with { MaxReplicas = 1 }));
    }

    [Fact]
    public async Task A_job_id_must_match_the_grain_it_is_submitted_to()
    {
        var error = await Assert.ThrowsAsync<JobSpecInvalidException>(() =>
            fixture.Client.GetGrain<ITrainingJobGrain>("grain-a").Submit(TinyJob.Spec("grain-b")));
        Assert.Contains(error.Problems, p => p.StartsWith("jobId:", StringComparison.Ordinal) && p.Contains("grain-a", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_over_large_model_is_refused_by_the_scheduler_with_its_reason()
    {
        // 24 layers of d_model 2048 on 2 stages: ~600 MB of state per stage alone, far beyond a test slot's memory.
        var spec = TinyJob.Spec("too-large", stages: 2, steps: 5) with
        {
            Model = new ModelSpec { VocabSize = 256, ContextLength = 16, DModel = 2048, Layers = 24, Heads = 16 },
        };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);
        var status = await Eventually.Value(job.GetStatus, s => s.State is JobState.Failed or JobState.Completed, TimeSpan.FromSeconds(60), "the job to be refused");
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("cannot fit", status.Error, StringComparison.Ordinal);
        Assert.Contains("stage", status.Error, StringComparison.Ordinal);
    }
}
