using Xunit.Abstractions;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// "A single failure costs no completed step" when failures cut transfers in their middle at moments drawn at random,
/// not chosen (<see cref="SegmentedKillMomentTests"/> and <see cref="MigrationTakeKillTests"/> hold chosen ones). With
/// 1 KiB segments (<see cref="SegmentedCallMomentClusterFixture"/>) every activation, gradient and all-reduce chunk of
/// the tiny model crosses in many calls. Half the rounds hold one of those calls — a segment sent ahead of its header
/// (<see cref="IPipelineStageGrain.AcceptTensorSegment"/>), or a range of a rank's gradient or reduced chunk — after a
/// random number of the step's earlier ones went through, and lose the receiver's silo, the sender's (or the fetching
/// rank's), or another. One round in six moves a random stage and holds its new activation's take of its copies from
/// the silo it left (<see cref="IMigrationParcelGrain.TakeChunk"/>), losing that silo or another. The rest draw from
/// <see cref="RandomKillMomentTests"/>' moments. Two more tests hold a take in every round (<see cref="DrawMove"/>),
/// half of them of a stage moving onto its own holder's silo, whose holder makes room first. Same run as there
/// (<see cref="RandomKillMoments"/>): moves in between, every restore from memory, no counted step recomputed, the
/// reference's losses bit for bit.
/// </summary>
public sealed class RandomTransferKillMomentTests(SegmentedCallMomentClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SegmentedCallMomentClusterFixture>
{
    /// <summary>
    /// Segments a stage gets per tensor sent to it: the tiny model's 8 KiB activations (and their gradients) in 1 KiB
    /// segments, the first with the header (<see cref="IPipelineStageGrain.RunMicroBatch"/>), the other 7 ahead of it.
    /// A replica's stage gets one such tensor per micro-batch of its share of the step, so fewer segments than that are
    /// let through before the held one: the drawn call always comes.
    /// </summary>
    private const int SegmentsAhead = 7;

    /// <summary>The most ranges of a rank's chunk let through before the held one: a chunk of the tiny model's stage is tens of 1 KiB ranges.</summary>
    private const int MaxRangesSkipped = 24;

    [Fact]
    public Task A_pipeline_loses_no_counted_step_to_single_failures_cutting_transfers_at_random_moments() => Pipeline("random-transfer-pipe", 1611, Draw);

    [Fact]
    public Task Data_parallel_replicas_lose_no_counted_step_to_single_failures_cutting_transfers_at_random_moments() => DataParallel("random-transfer-dp", 1612, Draw);

    /// <summary>
    /// Every round a move of rank 0's stage (only its stages keep copies to take): a random stage is drained and its take
    /// of its copies held — after one of a snapshot's chunks went through, or none — on its way elsewhere (1/3), or onto
    /// the silo of its own holder, which makes room first (<c>ICheckpointShardGrain.MakeRoom</c>), with the stage's take
    /// held (1/3) or the holder's (1/3); the silo lost is drawn among those the move touches and the others
    /// (<c>RandomKillMoments.LoseASiloDuringATake</c>).
    /// </summary>
    [Fact]
    public Task A_pipeline_loses_no_counted_step_to_single_failures_during_moves_at_random_moments() => Pipeline("random-move-pipe", 1613, DrawMove);

    [Fact]
    public Task Data_parallel_replicas_lose_no_counted_step_to_single_failures_during_moves_at_random_moments() => DataParallel("random-move-dp", 1614, DrawMove);

    /// <summary>A 3-stage pipeline through <see cref="RandomKillMoments.Run"/>, its moments drawn by <paramref name="draw"/>.</summary>
    private Task Pipeline(string jobId, int defaultSeed, Func<Random, int, int, CallMoment> draw) =>
        RandomKillMoments.Run(fixture, output, TinyJob.Spec(jobId, stages: 3, steps: 5000, checkpointInterval: RandomKillMoments.CheckpointInterval)
            with { SnapshotInterval = 1 }, replicas: 1, defaultSeed, draw);

    /// <summary>2 replicas × 2 stages through <see cref="RandomKillMoments.Run"/>, its moments drawn by <paramref name="draw"/>.</summary>
    private Task DataParallel(string jobId, int defaultSeed, Func<Random, int, int, CallMoment> draw) =>
        RandomKillMoments.Run(fixture, output, TinyJob.Spec(jobId, stages: 2, steps: 5000, checkpointInterval: RandomKillMoments.CheckpointInterval)
            with { MinReplicas = 1, MaxReplicas = 2, SnapshotInterval = 1 }, replicas: 2, defaultSeed, draw);

    private static CallMoment DrawMove(Random random, int stages, int replicas)
    {
        int stage = random.Next(stages), skip = random.Next(2), kind = random.Next(3);
        string after = skip == 0 ? "" : ", after its first chunk";
        return kind switch
        {
            0 => new CallMoment($"r0/s{stage} moved, taking its copies from its old silo{after}", nameof(IMigrationParcelGrain.TakeChunk), 0, stage, Skip: skip),
            1 => new CallMoment($"r0/s{stage} moved onto its holder's silo, taking its copies from its old silo{after}", nameof(IMigrationParcelGrain.TakeChunk), 0, stage,
                Skip: skip, OntoHolder: true),
            _ => new CallMoment($"r0/s{stage}'s holder making room for it, taking its copies from the silo r0/s{stage} moves onto{after}", nameof(IMigrationParcelGrain.TakeChunk),
                0, stage, Holder: true, Skip: skip, OntoHolder: true),
        };
    }

    private static CallMoment Draw(Random random, int stages, int replicas)
    {
        int kind = random.Next(6);
        if (kind < 2) return RandomKillMomentTests.Draw(random, stages, replicas);
        int replica = random.Next(replicas), stage = random.Next(stages);
        if (kind == 2) // rank 0's: only its stages keep copies of their own (another rank's leaves nothing to take)
            return new CallMoment($"r0/s{stage} moved, taking its copies from its old silo", nameof(IMigrationParcelGrain.TakeChunk), 0, stage);
        bool checkpoint = random.Next(3) == 0;
        string At(int skip) => $"after {skip} of the step's{(checkpoint ? " (at a checkpoint)" : "")}";
        if (replicas > 1 && random.Next(2) == 0)
        {
            int skip = random.Next(MaxRangesSkipped);
            // A rank's chunk is fetched in ranges by the other rank.
            string method = random.Next(2) == 0 ? nameof(IPipelineStageGrain.GetGradientRange) : nameof(IPipelineStageGrain.GetReducedRange);
            int fetcher = (replica + 1) % replicas;
            return new CallMoment($"{method} of r{replica}/s{stage} fetched by r{fetcher}, {At(skip)}", method, replica, stage, Checkpoint: checkpoint, Skip: skip,
                LoseHostOf: (fetcher, stage));
        }
        // s0 gets only gradients (from s1), the last stage only activations (from the one before), a middle one both.
        int[] senders = [.. new[] { stage - 1, stage + 1 }.Where(s => s >= 0 && s < stages)];
        int sender = senders[random.Next(senders.Length)];
        int segments = random.Next(SegmentsAhead * TinyJob.Spec("any").MicroBatches / replicas);
        return new CallMoment($"{nameof(IPipelineStageGrain.AcceptTensorSegment)} at r{replica}/s{stage}, {At(segments)}; s{sender} sends", nameof(IPipelineStageGrain.AcceptTensorSegment),
            replica, stage, Checkpoint: checkpoint, Skip: segments, LoseHostOf: (replica, sender));
    }
}
