using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Tests;

/// <summary>
/// The fenced store (issue 12): after a false death declaration two activations of one job, in two epochs, write,
/// commit and clean up at once. Each epoch's shard set is its own; a manifest is created once; deletes never reach a
/// newer epoch's checkpoint in progress nor a committed manifest's shards; checkpoints of the flat layout written by
/// earlier versions are still listed, restored and deleted.
/// </summary>
public abstract partial class CheckpointStoreContract
{
    /// <summary>Writes <paramref name="content"/> at <paramref name="relativeName"/> under the store's root as an earlier version laid it out (bypassing the store).</summary>
    protected abstract Task WriteRawAsync(string relativeName, byte[] content);

    [Fact]
    public async Task Two_epochs_write_and_commit_the_same_step_side_by_side()
    {
        string job = NewJobId();
        var stale = await WriteCheckpointAsync(job, 40, commit: false, epoch: 3, seed: 1);
        var live = await WriteCheckpointAsync(job, 40, commit: false, epoch: 4, seed: 2);

        await Store.CommitManifestAsync(live);
        await Store.CommitManifestAsync(stale);

        var listed = await Store.ListManifestsAsync(job);
        Assert.Equal([3L, 4L], listed.Select(m => m.Epoch));
        AssertManifestEqual(stale, listed[0]);
        AssertManifestEqual(live, listed[1]);
        Assert.All(listed, m => Assert.Equal(CheckpointLayout.EpochFolders, m.Layout));
        await AssertReadableAsync(listed[0]);
        await AssertReadableAsync(listed[1]);
    }

    [Fact]
    public async Task A_manifest_is_created_once_a_retry_of_the_same_checkpoint_succeeds_and_a_different_one_is_refused()
    {
        string job = NewJobId();
        var first = await WriteCheckpointAsync(job, 10);

        // The same checkpoint again (a retried commit whose answer was lost): accepted, nothing replaced.
        await Store.CommitManifestAsync(first with { CreatedAt = first.CreatedAt.AddMinutes(1), LossHistory = [1.0] });
        AssertManifestEqual(first, Assert.Single(await Store.ListManifestsAsync(job)));

        // A different manifest for the same shard set: refused, the first stays.
        var other = first with { Shards = [.. first.Shards.Select(r => r with { Sha256 = new string('0', 64) })] };
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CommitManifestAsync(other));
        Assert.Contains("written once", refused.Message, StringComparison.Ordinal);
        AssertManifestEqual(first, Assert.Single(await Store.ListManifestsAsync(job)));
    }

    [Fact]
    public async Task Cleanup_by_a_stale_epoch_never_touches_a_newer_epochs_checkpoint_in_progress()
    {
        string job = NewJobId();
        // Epoch 3 (a stale activation) committed step 50 and abandoned step 30; epoch 2 died leaving step 60;
        // epoch 4 (the live activation, restored from an older step) is writing step 50 and step 40 right now.
        var staleCommitted = await WriteCheckpointAsync(job, 50, epoch: 3);
        var staleAbandoned = await WriteCheckpointAsync(job, 30, commit: false, epoch: 3);
        var deadLeftover = await WriteCheckpointAsync(job, 60, commit: false, epoch: 2);
        var liveSameStep = await WriteCheckpointAsync(job, 50, commit: false, epoch: 4, seed: 4);
        var liveLowerStep = await WriteCheckpointAsync(job, 40, commit: false, epoch: 4, seed: 5);

        // The stale activation cleans up after its commit of step 50.
        await Store.DeleteUncommittedAsync(job, staleCommitted.Epoch, staleCommitted.Step);

        await AssertGoneAsync(staleAbandoned);
        await AssertGoneAsync(deadLeftover);
        await AssertReadableAsync(staleCommitted);
        await AssertReadableAsync(liveSameStep);
        await AssertReadableAsync(liveLowerStep);
        // The live activation's commits still go through, beside the stale one's.
        await Store.CommitManifestAsync(liveLowerStep);
        await Store.CommitManifestAsync(liveSameStep);
        Assert.Equal([(40L, 4L), (50L, 3L), (50L, 4L)], (await Store.ListManifestsAsync(job)).Select(m => (m.Step, m.Epoch)));
    }

    [Fact]
    public async Task Deleting_a_checkpoint_leaves_other_epochs_shard_sets_of_its_step()
    {
        string job = NewJobId();
        var old = await WriteCheckpointAsync(job, 10, epoch: 3);
        var inProgress = await WriteCheckpointAsync(job, 10, commit: false, epoch: 4, seed: 1);
        var committedBeside = await WriteCheckpointAsync(job, 10, epoch: 5, seed: 2);

        await Store.DeleteCheckpointAsync(Assert.Single(await Store.ListManifestsAsync(job), m => m.Epoch == 3));

        await AssertGoneAsync(old);
        await AssertReadableAsync(inProgress);
        await AssertReadableAsync(committedBeside);
        await Store.CommitManifestAsync(inProgress);
        Assert.Equal([4L, 5L], (await Store.ListManifestsAsync(job)).Select(m => m.Epoch));
    }

    [Fact]
    public async Task Checkpoints_of_the_flat_layout_of_earlier_versions_are_listed_restored_and_deleted()
    {
        string job = NewJobId();
        // As earlier versions wrote it: shards and manifest straight in the step folder. Epoch 3's manifest there.
        var legacy = await BuildFlatCheckpointAsync(job, 5, epoch: 3);
        // A newer epoch commits the same step beside it, and an earlier version left an uncommitted flat set at step 7.
        var current = await WriteCheckpointAsync(job, 5, epoch: 4, seed: 1);
        await WriteRawAsync($"{job}/step-00000007/embed.safetensors", RandomBytes(10, seed: 7));

        var listed = await Store.ListManifestsAsync(job);
        Assert.Equal([CheckpointLayout.Flat, CheckpointLayout.EpochFolders], listed.Select(m => m.Layout));
        AssertManifestEqual(legacy, listed[0]);
        AssertManifestEqual(current, listed[1]);
        await AssertReadableAsync(listed[0]);

        // Cleanup counts a flat set as older than every epoch; deleting the flat checkpoint leaves the epoch folder beside it.
        await Store.DeleteUncommittedAsync(job, 0, 0);
        await Assert.ThrowsAsync<Kernels.Checkpoint.CheckpointCorruptException>(() => Store.ReadShardAsync(job, -1, 7, "embed.safetensors"));
        await Store.DeleteCheckpointAsync(listed[0]);
        await AssertGoneAsync(listed[0]);
        AssertManifestEqual(current, Assert.Single(await Store.ListManifestsAsync(job)));
        await AssertReadableAsync(current);
    }

    /// <summary>A checkpoint as earlier versions wrote it (flat in its step folder), through <see cref="WriteRawAsync"/>.</summary>
    private async Task<CheckpointManifest> BuildFlatCheckpointAsync(string job, long step, long epoch)
    {
        string scratch = NewJobId();
        var written = await WriteCheckpointAsync(scratch, step, commit: false, epoch: epoch, seed: 9);
        var manifest = written with { JobId = job };
        foreach (var shard in manifest.Shards)
            await WriteRawAsync($"{job}/step-{step:D8}/{shard.Name}", await Store.ReadShardAsync(scratch, epoch, step, shard.Name));
        await WriteRawAsync($"{job}/step-{step:D8}/manifest.json", CheckpointManifestJson.Serialize(manifest));
        return manifest with { Layout = CheckpointLayout.Flat };
    }
}
