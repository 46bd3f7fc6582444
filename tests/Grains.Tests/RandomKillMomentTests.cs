using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// "A single failure costs no completed step" for any silo, at any moment of a step, after any earlier moves: one job
/// lives through <see cref="RandomKillMoments.Rounds"/> single failures in a row, each at a moment drawn at random — a call of the
/// step the job makes to a stage or a stage makes to a peer or to a snapshot holder (forward and backward passes, the
/// all-reduce, gradient norms, the update, the snapshot's start and its acknowledgement, a snapshot or checkpoint shard
/// on its way, a checkpoint's durability check), at a random step, some right after a checkpoint — held back while a
/// silo drawn at random is lost: the silo that runs the held call (which then fails), the stage's, or another one
/// (the held call then runs late). Some rounds first move a random stage with an operator's drain; every round's
/// recovery is itself an earlier move for the next. Every restore must be from memory and recompute no counted step,
/// and the losses must stay the reference trainer's bit for bit. A third test loses two silos at once in each round —
/// rank 0's of the drawn stage and its holder's — which a surviving replica's live state must cover. The seed is
/// printed; <see cref="RandomKillMoments.SeedVariable"/> reruns with another.
/// </summary>
public sealed class RandomKillMomentTests(CallMomentClusterFixture fixture, ITestOutputHelper output) : IClassFixture<CallMomentClusterFixture>
{
    private const int CheckpointInterval = RandomKillMoments.CheckpointInterval;

    /// <summary>The job's calls to every stage of every replica, and the stages' calls to their peers, of a step.</summary>
    private static readonly string[] StageCalls =
    [
        nameof(IPipelineStageGrain.RunMicroBatch), nameof(IPipelineStageGrain.GradientSquares), nameof(IPipelineStageGrain.ApplyUpdate),
    ];

    /// <summary>The job's calls that only snapshotting stages (rank 0's) get.</summary>
    private static readonly string[] SnapshotCalls = [nameof(IPipelineStageGrain.BeginSnapshot), nameof(IPipelineStageGrain.SnapshotHeld)];

    /// <summary>The data-parallel ranks' calls to each other during the all-reduce.</summary>
    private static readonly string[] AllReduceCalls = [nameof(IPipelineStageGrain.GetGradientRange), nameof(IPipelineStageGrain.GetReducedRange)];

    /// <summary>Calls to a stage's snapshot holder: a copy on its way, and (at a checkpoint) the commit's durability check.</summary>
    private static readonly string[] HolderCalls = [nameof(ICheckpointShardGrain.Accept), nameof(ICheckpointShardGrain.WaitDurable)];

    [Fact]
    public Task A_pipeline_loses_no_counted_step_to_single_failures_at_random_moments() =>
        RandomKillMoments.Run(fixture, output, TinyJob.Spec("random-moments-pipe", stages: 3, steps: 5000, checkpointInterval: CheckpointInterval) with { SnapshotInterval = 1 }, replicas: 1, defaultSeed: 1601, Draw);

    [Fact]
    public Task Data_parallel_replicas_lose_no_counted_step_to_single_failures_at_random_moments() =>
        RandomKillMoments.Run(fixture, output, TinyJob.Spec("random-moments-dp", stages: 2, steps: 5000, checkpointInterval: CheckpointInterval) with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 },
            replicas: 2, defaultSeed: 1602, Draw);

    /// <summary>
    /// Two failures at once in each round: the drawn stage's snapshot holder, alone on a fresh silo, and rank 0's silo of
    /// that stage — every snapshot of it. Rank 1 of the stage lives elsewhere (moved off first if it shares rank 0's
    /// silo), and its live state must serve: no counted step may be lost (<c>PipelineStageGrain.LiveState</c>).
    /// </summary>
    [Fact]
    public Task Data_parallel_replicas_lose_no_counted_step_when_rank_0_and_its_holder_are_lost_together_at_random_moments() =>
        RandomKillMoments.Run(fixture, output, TinyJob.Spec("random-moments-dp-pair", stages: 2, steps: 5000, checkpointInterval: CheckpointInterval) with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 },
            replicas: 2, defaultSeed: 1603, Draw, rank0WithHolder: true);

    internal static CallMoment Draw(Random random, int stages, int replicas)
    {
        string[] methods = [.. StageCalls, .. SnapshotCalls, .. HolderCalls, .. replicas > 1 ? AllReduceCalls : []];
        string method = methods[random.Next(methods.Length)];
        bool holder = HolderCalls.Contains(method);
        int replica = holder || SnapshotCalls.Contains(method) ? 0 : random.Next(replicas);
        int stage = random.Next(stages);
        bool checkpoint = method == nameof(ICheckpointShardGrain.WaitDurable) || random.Next(3) == 0;
        return new CallMoment($"{method} of r{replica}/s{stage}{(holder ? "'s holder" : "")}{(checkpoint ? " at a checkpoint" : "")}", method, replica, stage, holder, Checkpoint: checkpoint);
    }
}
