using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Hosting;

namespace Cluster.Grains.Tests;

/// <summary>
/// A data-parallel all-reduce moves each rank's chunk of a stage's gradients in calls of at most
/// <c>TrainingCluster:AllReduceSegmentBytes</c> — so no message nears Orleans' 100 MiB limit however large the stage
/// (before, one call carried a whole chunk: a stage of over ≈ 52 M parameters could not train with 2 replicas across
/// silos) — and the bits do not change. Here with 4 KiB ranges, so the tiny model's chunks take many.
/// </summary>
public sealed class SegmentedAllReduceTests(SegmentedAllReduceTests.Fixture fixture) : IClassFixture<SegmentedAllReduceTests.Fixture>
{
    private const int SegmentBytes = 4096;

    public sealed class Fixture : ClusterFixture
    {
        public AllReduceRangeCounter Counter { get; } = new();

        protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Counter);

        protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) =>
            silo.Configure<TrainingClusterOptions>(o => o.AllReduceSegmentBytes = SegmentBytes);
    }

    [Fact]
    public async Task Two_replicas_train_bit_identically_with_no_call_carrying_more_than_one_segment()
    {
        var spec = TinyJob.Spec("dp-ranges", stages: 2, steps: 6, checkpointInterval: 3) with { MinReplicas = 2, MaxReplicas = 2 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);

        var done = await JobRuns.Finished(job);

        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
        Assert.InRange(fixture.Counter.MostValues, 1, SegmentBytes / sizeof(float));
        // Each of 2 stages × 2 ranks fetches its peer's part of its chunk, and then the peer's reduced chunk, in ranges:
        // a chunk of the tiny model is several thousand values, so many more calls than one per chunk and step.
        int perStepIfWhole = 2 * 2;
        Assert.True(fixture.Counter.Calls.GetValueOrDefault(nameof(IPipelineStageGrain.GetGradientRange)) > 2 * perStepIfWhole * spec.Steps,
            $"calls: {string.Join(", ", fixture.Counter.Calls.Select(c => $"{c.Key} {c.Value}"))}");
        Assert.True(fixture.Counter.Calls.GetValueOrDefault(nameof(IPipelineStageGrain.GetReducedRange)) > 2 * perStepIfWhole * spec.Steps);
        Assert.False(fixture.Counter.Calls.ContainsKey(nameof(IPipelineStageGrain.GetGradientChunk)));
    }

    [Theory]
    [InlineData(1023)]
    [InlineData((1 << 30) + 1)]
    public void A_segment_size_outside_1_KiB_to_1_GiB_is_named_with_the_fix(int bytes)
    {
        string problem = Assert.Single(new TrainingClusterOptions { AllReduceSegmentBytes = bytes }.Validate());
        Assert.StartsWith($"AllReduceSegmentBytes = {bytes}: must be 1024 (1 KiB) to 1073741824 (1 GiB)", problem, StringComparison.Ordinal);
        Assert.Empty(new TrainingClusterOptions { AllReduceSegmentBytes = 1024 }.Validate());
    }
}
