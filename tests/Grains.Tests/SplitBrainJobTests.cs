using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A real split brain (issue 12, "fenced store"): two live activations of one job. Cluster A trains the job; while it
/// runs, cluster B — its own silos, scheduler, nodes and shard holders, but the same stored job state and checkpoint
/// store (<see cref="SharedJobStateClusterFixture"/>) — is made to activate the same job id, as a silo the directory
/// points to after a false death declaration would. B takes a new epoch and restores from the store; A's next write
/// of job state meets B's newer epoch, and A must stop by itself, writing and committing nothing more. One winner: B
/// finishes with the reference trajectory, its checkpoints load with their own shards, and the stored job ends
/// Completed in B's epoch.
/// </summary>
public sealed class SplitBrainJobTests : IAsyncLifetime
{
    private readonly string _shared = Path.Combine(Path.GetTempPath(), "cluster-tests", "split-brain-" + Guid.NewGuid().ToString("N"));
    private SharedJobStateClusterFixture _a = null!;
    private SharedJobStateClusterFixture _b = null!;

    public async Task InitializeAsync()
    {
        _a = new SharedJobStateClusterFixture(_shared);
        _b = new SharedJobStateClusterFixture(_shared);
        await _a.InitializeAsync();
        await _b.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
        try
        {
            Directory.Delete(_shared, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp folder
        }
    }

    [Fact]
    public async Task Two_live_activations_of_one_job_end_with_one_winner_and_the_reference_trajectory()
    {
        var spec = TinyJob.Spec("split-brain-live", stages: 2, steps: 60, checkpointInterval: 5) with { SnapshotInterval = 0 };
        var inA = _a.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await inA.Submit(spec);
        var running = await Eventually.Value(inA.GetStatus, s => s.LastCheckpointStep >= 5 || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(3), "the job to commit its first checkpoint in cluster A");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"job in A is {running.State} before the split: {running.Error}");
        long staleEpoch = running.Epoch;

        // The second activation: cluster B is made to activate the same job while A's is alive and training.
        var inB = _b.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var taken = await Eventually.Value(inB.GetStatus, s => s.Epoch > staleEpoch || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(3), "cluster B's activation to take a new epoch");
        Assert.True(taken.Epoch > staleEpoch, $"B never took an epoch of its own: {taken.State} epoch {taken.Epoch} ({taken.Error})");

        // The stale activation learns it lost the job and stops by itself (asked about nothing: a call would revive it).
        await Eventually.True(() => Task.FromResult(_a.HostOf(inA) is null), TimeSpan.FromMinutes(2),
            "cluster A's stale activation of the job to stop itself once B's epoch fenced it");

        var done = await Eventually.Value(inB.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(5), "the job to finish in cluster B");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.Equal(spec.Steps, done.CompletedSteps);
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await inB.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));

        // What is stored is the winner's: A, asked now, reads the finished job in B's epoch and does not start again.
        var seenFromA = await inA.GetStatus();
        Assert.Equal(JobState.Completed, seenFromA.State);
        Assert.Equal(done.Epoch, seenFromA.Epoch);

        await AssertNoCheckpointLost(spec, done);
    }

    /// <summary>
    /// Two submissions of one new job id at once, each to an activation of its own that read "no job" (a split
    /// directory), with different specs: the first durable one owns the job; the other is fenced at its write — it must
    /// not write its spec over the first's — and its client is told to submit again. The stored job is the winner's, and
    /// it trains to the winner's reference trajectory. (Which write the loser meets depends on timing: the winner's
    /// submission, or its first epoch claim if its loop got there first — which fenced the loser before owners were
    /// claimed at submission too. The writer's unit test in <see cref="JobOwnershipTests"/> pins the submission case.)
    /// </summary>
    [Fact]
    public async Task Two_submissions_of_one_new_job_id_at_once_leave_the_first_ones_job_and_tell_the_other_to_submit_again()
    {
        var specA = TinyJob.Spec("split-brain-submit", stages: 2, steps: 6, checkpointInterval: 3);
        var specB = specA with { Steps = 9 };
        var inA = _a.Client.GetGrain<ITrainingJobGrain>(specA.JobId);
        var inB = _b.Client.GetGrain<ITrainingJobGrain>(specA.JobId);
        // Both activations read the (absent) job before either writes it.
        Assert.Null(await inA.GetSpec());
        Assert.Null(await inB.GetSpec());

        var submitted = await Task.WhenAll(Record.ExceptionAsync(() => inA.Submit(specA)), Record.ExceptionAsync(() => inB.Submit(specB)));
        Assert.True(submitted.Count(e => e is null) == 1, "exactly one submission must win: " + string.Join(" | ", submitted.Select(e => e?.Message ?? "accepted")));
        var (winner, winnerSpec, loser) = submitted[0] is null ? (inA, specA, submitted[1]!) : (inB, specB, submitted[0]!);
        Assert.Contains("submitted at the same moment", loser.Message, StringComparison.Ordinal);

        var done = await Eventually.Value(winner.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(3), "the winner's job to finish");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.Equal(winnerSpec, await winner.GetSpec());
        JobRuns.AssertBitIdentical(TinyJob.ReferenceLosses(winnerSpec), await winner.GetLossHistory(), "the winner's reference", "the job");
        // The loser's cluster, asked again, reads the winner's job (its fenced activation left).
        var other = ReferenceEquals(winner, inA) ? inB : inA;
        await Eventually.True(async () => await other.GetSpec() == winnerSpec, TimeSpan.FromMinutes(1), "the other cluster to read the winner's spec");
    }

    /// <summary>
    /// Two activations that take the same epoch at once (issue 12: fenced by epoch and owner, not the epoch alone). The
    /// job is paused in cluster A; cluster B activates it too, so both hold it in the same epoch; both are resumed at
    /// once, and each takes the next epoch. Only the first durable claim of that epoch goes on: the other learns at its
    /// claim's write that the epoch is another activation's and stops before it places a stage — long before the
    /// winner finishes (with the epoch alone, both would train in the one epoch, each writing over the other's state
    /// and checkpoint folder, until one finished).
    /// </summary>
    [Fact]
    public async Task Two_activations_that_take_the_same_epoch_at_once_end_with_one_winner_and_the_reference_trajectory()
    {
        var spec = TinyJob.Spec("split-brain-same-epoch", stages: 2, steps: 60, checkpointInterval: 5) with { SnapshotInterval = 0 };
        var inA = _a.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await inA.Submit(spec);
        var running = await Eventually.Value(inA.GetStatus, s => s.LastCheckpointStep >= 5 || s.State is JobState.Completed or JobState.Failed,
            TimeSpan.FromMinutes(3), "the job to commit its first checkpoint in cluster A");
        Assert.True(running.State is JobState.Running or JobState.Checkpointing, $"job in A is {running.State} before the pause: {running.Error}");
        var paused = await inA.Pause();
        Assert.Equal(JobState.Paused, paused.State);

        // Cluster B activates the same job: two live activations hold the paused job in one epoch.
        var inB = _b.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        var seenByB = await inB.GetStatus();
        Assert.Equal((JobState.Paused, paused.Epoch, paused.CompletedSteps), (seenByB.State, seenByB.Epoch, seenByB.CompletedSteps));

        // Both are resumed at once: each claims epoch paused.Epoch + 1.
        await Task.WhenAll(inA.Resume(), inB.Resume());
        await Eventually.True(() => Task.FromResult(_a.HostOf(inA) is null || _b.HostOf(inB) is null), TimeSpan.FromMinutes(2),
            "one of the two activations to stop once the other's claim of the same epoch fenced it");
        bool aLost = _a.HostOf(inA) is null;
        var winner = aLost ? inB : inA;
        var atSplit = await winner.GetStatus();
        Assert.True(!atSplit.State.IsTerminal() && atSplit.CompletedSteps < spec.Steps,
            $"the losing activation stopped only once the job was over ({atSplit.State} at step {atSplit.CompletedSteps}): both trained in one epoch");
        Assert.True(atSplit.Epoch > paused.Epoch, $"the winner runs in epoch {atSplit.Epoch}, not after the paused one ({paused.Epoch})");

        var done = await Eventually.Value(winner.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(5), "the job to finish in the winner's cluster");
        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.Equal(spec.Steps, done.CompletedSteps);
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await winner.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));

        // The loser, asked now, reads the finished job in the winner's epoch and does not start again.
        var seenByLoser = await (aLost ? inA : inB).GetStatus();
        Assert.Equal((JobState.Completed, done.Epoch), (seenByLoser.State, seenByLoser.Epoch));
        await AssertNoCheckpointLost(spec, done);
    }

    /// <summary>No committed checkpoint lost: the final one is there in the winner's epoch, and every checkpoint retention kept loads with the shards its own manifest names.</summary>
    private async Task AssertNoCheckpointLost(JobSpec spec, JobStatus done)
    {
        var store = new FileSystemCheckpointStore(Path.Combine(_shared, "checkpoints"));
        var listed = await store.ListManifestsAsync(spec.JobId);
        Assert.Contains(listed, m => m.Step == spec.Steps && m.Epoch == done.Epoch);
        Assert.Equal(spec.Steps, done.LastCheckpointStep);
        foreach (var manifest in listed)
        {
            foreach (var shard in manifest.Shards)
            {
                string hash = Convert.ToHexStringLower(SHA256.HashData(await store.ReadShardAsync(manifest, shard.Name)));
                Assert.True(hash == shard.Sha256, $"shard {shard.Name} of the checkpoint at step {manifest.Step} epoch {manifest.Epoch} is not the one its manifest names");
            }
        }
    }
}
