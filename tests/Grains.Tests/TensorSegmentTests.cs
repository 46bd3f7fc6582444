using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Hosting;

namespace Cluster.Grains.Tests;

/// <summary>
/// Tensors between stages — activations forward, their gradients back, the all-reduce's values between replicas — go
/// in calls of at most <c>TrainingCluster:TensorSegmentBytes</c> of data, so no message nears Orleans' 100 MiB limit
/// however large the model (before, one call carried a whole tensor or chunk: larger activations, or a stage of over
/// ≈ 52 M parameters with 2 replicas on different silos, failed every step), and the bits do not change. Here with
/// 1 KiB segments, so the tiny model's tensors take many.
/// </summary>
public sealed class TensorSegmentTests(TensorSegmentTests.Fixture fixture) : IClassFixture<TensorSegmentTests.Fixture>
{
    private const int SegmentBytes = 1024;

    public sealed class Fixture : ClusterFixture
    {
        public TensorTransferCounter Counter { get; } = new();

        protected override ISiloBuilder ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(Counter);

        protected override ISiloBuilder AfterTrainingCluster(ISiloBuilder silo) =>
            silo.Configure<TrainingClusterOptions>(o => o.TensorSegmentBytes = SegmentBytes);
    }

    [Fact]
    public async Task A_pipeline_of_two_replicas_trains_bit_identically_with_no_call_carrying_more_than_one_segment()
    {
        var spec = TinyJob.Spec("segmented", stages: 3, steps: 6, checkpointInterval: 3) with { MinReplicas = 2, MaxReplicas = 2 };
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);

        var done = await JobRuns.Finished(job);

        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        await JobRuns.AssertReferenceTrajectory(job, spec);
        string calls = string.Join(", ", fixture.Counter.Calls.Select(c => $"{c.Key} {c.Value}"));
        Assert.InRange(fixture.Counter.MostBytes, 1, SegmentBytes);
        // Every micro-batch's activations (2 boundaries) and gradients (2 boundaries) take several segments each.
        int boundaryCrossings = 2 * 2 * spec.MicroBatches * spec.Steps;
        Assert.True(fixture.Counter.CallsOf(nameof(IPipelineStageGrain.AcceptTensorSegment)) > boundaryCrossings, calls);
        // Each of 3 stages × 2 ranks fetches its peer's part of its chunk, and then the peer's reduced chunk, in ranges.
        int chunkFetches = 3 * 2 * spec.Steps;
        Assert.True(fixture.Counter.CallsOf(nameof(IPipelineStageGrain.GetGradientRange)) > chunkFetches, calls);
        Assert.True(fixture.Counter.CallsOf(nameof(IPipelineStageGrain.GetReducedRange)) > chunkFetches, calls);
        Assert.Equal(0, fixture.Counter.CallsOf(nameof(IPipelineStageGrain.GetGradientChunk)));
    }

    [Theory]
    [InlineData(1023)]
    [InlineData((1 << 30) + 1)]
    public void A_segment_size_outside_1_KiB_to_1_GiB_is_named_with_the_fix(int bytes)
    {
        string problem = Assert.Single(new TrainingClusterOptions { TensorSegmentBytes = bytes }.Validate());
        Assert.StartsWith($"TensorSegmentBytes = {bytes}: must be 1024 (1 KiB) to 1073741824 (1 GiB)", problem, StringComparison.Ordinal);
        Assert.Empty(new TrainingClusterOptions { TensorSegmentBytes = 1024 }.Validate());
    }
}
