using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// "A single failure costs no completed step" when the failure cuts a tensor transfer in its middle. With 1 KiB
/// segments (<see cref="SegmentedCallMomentClusterFixture"/>) every activation, gradient and all-reduce chunk of the tiny
/// model crosses between stages in many calls; each moment lets the first call of a transfer through and holds the
/// second, then loses the receiver's silo or the sender's: the receiver holds part of a tensor (segments sent ahead of
/// a header that never comes, or the first range of a chunk) that must neither be used nor block the epoch after the
/// recovery. At the 32 MiB default the test model's tensors are one call each, so <see cref="KillMomentTests"/> never
/// reaches <see cref="IPipelineStageGrain.AcceptTensorSegment"/> or a chunk's second range.
/// </summary>
public sealed class SegmentedKillMomentTests(SegmentedCallMomentClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SegmentedCallMomentClusterFixture>
{
    private const int CheckpointInterval = 5;

    private static readonly CallMoment[] PipelineMoments =
    [
        // s1 gets activations first (micro-batch 0's forward precedes every gradient), so its second segment call is one.
        new("s1's activations cut after their first segment, s1's silo lost", nameof(IPipelineStageGrain.AcceptTensorSegment), Replica: 0, Stage: 1, Skip: 1),
        new("s1's activations cut after their first segment, the sender s0's silo lost", nameof(IPipelineStageGrain.AcceptTensorSegment), Replica: 0, Stage: 1, Skip: 1,
            LoseHostOf: (0, 0)),
        // s0 gets only gradients, from s1.
        new("s0's gradients cut after their first segment, s0's silo lost", nameof(IPipelineStageGrain.AcceptTensorSegment), Replica: 0, Stage: 0, Skip: 1),
        new("s0's gradients cut after their first segment, the sender s1's silo lost", nameof(IPipelineStageGrain.AcceptTensorSegment), Replica: 0, Stage: 0, Skip: 1,
            LoseHostOf: (0, 1)),
    ];

    private static readonly CallMoment[] DataParallelMoments =
    [
        new("rank 0's gradient chunk cut after its first range, rank 0's silo lost", nameof(IPipelineStageGrain.GetGradientRange), Replica: 0, Stage: 1, Skip: 1),
        new("rank 0's gradient chunk cut after its first range, the fetching rank 1's silo lost", nameof(IPipelineStageGrain.GetGradientRange), Replica: 0, Stage: 1, Skip: 1,
            LoseHostOf: (1, 1)),
        new("rank 1's reduced chunk cut after its first range, rank 1's silo lost", nameof(IPipelineStageGrain.GetReducedRange), Replica: 1, Stage: 0, Skip: 1),
    ];

    public static TheoryData<string> PipelineMomentNames() => [.. PipelineMoments.Select(m => m.Name)];

    public static TheoryData<string> DataParallelMomentNames() => [.. DataParallelMoments.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(PipelineMomentNames))]
    public Task Losing_a_silo_in_the_middle_of_a_segmented_activation_or_gradient_costs_no_completed_step(string name)
    {
        var moment = PipelineMoments.Single(m => m.Name == name);
        var spec = TinyJob.Spec($"seg-pipe-moment-{Array.IndexOf(PipelineMoments, moment)}", stages: 3, steps: 5000, checkpointInterval: 5000) with { SnapshotInterval = 1 };
        return KillMoments.LoseASiloAt(fixture, output, moment, spec, replicas: 1, moveFirst: false, CheckpointInterval);
    }

    [Theory]
    [MemberData(nameof(DataParallelMomentNames))]
    public Task Losing_a_silo_in_the_middle_of_an_all_reduce_chunk_fetched_in_ranges_costs_no_completed_step(string name)
    {
        var moment = DataParallelMoments.Single(m => m.Name == name);
        var spec = TinyJob.Spec($"seg-dp-moment-{Array.IndexOf(DataParallelMoments, moment)}", stages: 2, steps: 5000, checkpointInterval: 5000)
            with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 };
        return KillMoments.LoseASiloAt(fixture, output, moment, spec, replicas: 2, moveFirst: false, CheckpointInterval);
    }
}
