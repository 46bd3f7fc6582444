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

        // No committed checkpoint lost: the final one is there in the winner's epoch, and every checkpoint retention
        // kept loads with the shards its own manifest names.
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
