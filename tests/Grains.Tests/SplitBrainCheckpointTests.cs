using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>
/// A split brain at the checkpoint store (issue 12, "fenced store"): after a false death declaration a stale
/// activation of the job — one epoch older, on a diverged trajectory — keeps writing, committing and cleaning up
/// checkpoints of the same steps in the same store, each time just before the live activation commits. The live one
/// must win: it finishes with the reference trajectory, and every checkpoint it committed that retention keeps is
/// listed and loads with the shards it wrote. With one shared shard set per step (the layout before epoch folders),
/// the stale writer's shards of the same step replace the live one's and its manifest takes the step first, so the
/// live job's commits are refused or commit shards that do not match its manifest: this test fails.
/// </summary>
public sealed class SplitBrainCheckpointTests(FaultInjectionClusterFixture fixture) : IClassFixture<FaultInjectionClusterFixture>
{
    [Fact]
    public async Task A_stale_activation_writing_and_cleaning_up_beside_the_live_one_costs_no_committed_checkpoint()
    {
        const int keep = 2;
        var spec = TinyJob.Spec("split-brain-store", stages: 2, steps: 30, checkpointInterval: 5) with { KeepCheckpoints = keep, SnapshotInterval = 0 };
        int staleCommits = 0;
        FaultyCheckpointStore.BeforeCommitOf(spec.JobId, async (live, store) =>
        {
            if (live.Epoch == 0) return; // no older epoch to be stale in
            await ActAsStaleActivation(store, live, keep);
            Interlocked.Increment(ref staleCommits);
        });
        var job = fixture.Client.GetGrain<ITrainingJobGrain>(spec.JobId);
        await job.Submit(spec);

        var done = await Eventually.Value(job.GetStatus, s => s.State is JobState.Completed or JobState.Failed, TimeSpan.FromMinutes(4), "the job to finish");

        Assert.True(done.State == JobState.Completed, $"job ended {done.State}: {done.Error}");
        Assert.True(Volatile.Read(ref staleCommits) > 0, "the stale activation never acted");
        var expected = TinyJob.ReferenceLosses(spec);
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await job.GetLossHistory()).Select(BitConverter.DoubleToInt64Bits));
        var store = new FileSystemCheckpointStore(Path.Combine(fixture.DataRoot, "checkpoints"));
        var listed = await store.ListManifestsAsync(spec.JobId);
        var liveCheckpoints = listed.Where(m => m.Epoch == done.Epoch).Select(m => m.Step).ToArray();
        Assert.Equal([25L, 30L], liveCheckpoints);
        foreach (var manifest in listed.Where(m => m.Epoch == done.Epoch))
        {
            foreach (var shard in manifest.Shards)
            {
                string hash = Convert.ToHexStringLower(SHA256.HashData(await store.ReadShardAsync(manifest, shard.Name)));
                Assert.True(hash == shard.Sha256, $"shard {shard.Name} of the live checkpoint at step {manifest.Step} is not the one its manifest names");
            }
        }
    }

    /// <summary>
    /// What a stale activation (epoch one older) does around the same step: writes its own shards (diverged content,
    /// same names and sizes), commits them, then cleans up and applies retention as its checkpoint coordinator would.
    /// </summary>
    private static async Task ActAsStaleActivation(ICheckpointStore store, CheckpointManifest live, int keep)
    {
        long epoch = live.Epoch - 1;
        var shards = new List<ShardRecord>();
        foreach (var shard in live.Shards)
        {
            byte[] content = new byte[shard.Bytes];
            new Random(HashCode.Combine(live.Step, shard.Name)).NextBytes(content);
            await store.WriteShardAsync(live.JobId, epoch, live.Step, shard.Name, content);
            shards.Add(shard with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)) });
        }
        var stale = live with { Epoch = epoch, Shards = shards };
        try
        {
            await store.CommitManifestAsync(stale);
        }
        catch (InvalidOperationException)
        {
            // the step was taken first: a stale writer just loses
        }
        var all = await store.ListManifestsAsync(live.JobId);
        foreach (var old in all.OrderByDescending(m => m.Epoch).ThenByDescending(m => m.Step).Skip(keep).Where(m => m.Step != stale.Step || m.Epoch != stale.Epoch))
            await store.DeleteCheckpointAsync(old);
        await store.DeleteUncommittedAsync(live.JobId, stale.Epoch, stale.Step);
    }
}
