using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Jobs;
using Cluster.Kernels.Checkpoint;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 12, bounded state: a checkpoint's manifest is O(1) in the job's step count — it carries the step's loss and
/// names the checkpoint's loss file — and so is its loss file: it holds the losses since the job's last sealed loss
/// chunk, the rest is rebuilt from the job's loss log. Whole-history loss files and old manifests that embed the
/// history still read.
/// </summary>
public sealed class CheckpointManifestSizeTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cluster-tests", "manifest-size-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task The_manifest_of_a_million_step_checkpoint_is_as_small_as_one_of_ten_steps_and_its_losses_read_back()
    {
        var store = new FileSystemCheckpointStore(_root);
        var (small, _) = await Commit(store, 10);
        var (large, losses) = await Commit(store, 1_000_000);

        int smallBytes = CheckpointManifestJson.Serialize(small).Length;
        int largeBytes = CheckpointManifestJson.Serialize(large).Length;
        Assert.True(largeBytes < 4096, $"the manifest of a 1,000,000-step checkpoint is {largeBytes} bytes");
        Assert.True(Math.Abs(largeBytes - smallBytes) < 64, $"manifest sizes: {smallBytes} bytes at step 10, {largeBytes} at step 1,000,000");
        Assert.Empty(large.LossHistory);
        Assert.Equal(BitConverter.DoubleToInt64Bits(losses[^1]), BitConverter.DoubleToInt64Bits(large.StepLoss!.Value));

        var listed = (await store.ListManifestsAsync("size")).Single(m => m.Step == 1_000_000);
        var read = await CheckpointLosses.ReadAsync(store, listed);
        Assert.True(read.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(losses.Select(BitConverter.DoubleToInt64Bits)), "the loss file does not read back bit for bit");
    }

    [Fact]
    public async Task A_manifest_that_embeds_its_history_still_reads_and_a_loss_file_that_does_not_match_is_refused()
    {
        var store = new FileSystemCheckpointStore(_root);
        var (manifest, losses) = await Commit(store, 20);
        var legacy = manifest with { Loss = null, LossLog = null, LossHistory = losses };
        Assert.Equal(losses, await CheckpointLosses.ReadAsync(store, legacy));
        Assert.Equal(losses[^1], legacy.StepLoss);

        var tampered = manifest with { LossLog = manifest.LossLog! with { Sha256 = new string('0', 64) } };
        await Assert.ThrowsAsync<CheckpointCorruptException>(() => CheckpointLosses.ReadAsync(store, tampered));
        var unnamed = manifest with { LossLog = null };
        await Assert.ThrowsAsync<CheckpointCorruptException>(() => CheckpointLosses.ReadAsync(store, unnamed));
    }

    [Fact]
    public async Task A_checkpoint_of_a_million_step_job_writes_only_the_losses_since_the_last_sealed_chunk_and_restores_rebuild_the_whole_history()
    {
        var store = new FileSystemCheckpointStore(_root);
        using var writers = new JobStateWriters();
        var storage = writers.NewStorage();
        var (grain, writer) = await JobStateWriters.Submitted(storage, "size", steps: 1_000_000);
        writer.ClaimEpoch();
        await writer.Flush();
        double[] losses = Losses(1_000_000);
        foreach (double loss in losses) writer.AddLoss(loss);
        writer.State.CompletedSteps = losses.Length;
        await writer.Flush(); // the job's per-step saves seal its losses into chunks

        var (manifest, _) = await Commit(store, losses.Length, writer.LossesForCheckpoint());
        long fileBytes = (await store.ReadShardAsync(manifest, CheckpointLosses.FileName)).Length;
        Assert.True(fileBytes is > 0 and <= JobStateWriter.LossChunkSize * sizeof(double),
            $"the checkpoint of step 1,000,000 wrote a {fileBytes}-byte loss file (the whole history is {losses.Length * sizeof(double)} bytes)");
        Assert.Equal(BitConverter.DoubleToInt64Bits(losses[^1]), BitConverter.DoubleToInt64Bits(manifest.StepLoss!.Value));
        var listed = (await store.ListManifestsAsync("size")).Single(m => m.Step == losses.Length);

        // A new activation of the job (its log read back from the chunk records) rebuilds the whole history bit for bit.
        var next = JobStateWriters.Writer(storage, grain);
        await next.ReadAsync();
        AssertSame(losses, await CheckpointLosses.ReadAsync(store, listed, next.EarlierLosses));
        // So does one that went back to step 1,000 (a rewind): the sealed chunks it no longer holds come from their records.
        next.TruncateLosses(1000);
        AssertSame(losses, await CheckpointLosses.ReadAsync(store, listed, next.EarlierLosses));

        // Earlier losses that are not the checkpoint's history are refused, as is a restore that has none to give.
        await Assert.ThrowsAsync<CheckpointCorruptException>(() => CheckpointLosses.ReadAsync(store, listed, n => Task.FromResult<double[]?>(new double[n])));
        await Assert.ThrowsAsync<CheckpointCorruptException>(() => CheckpointLosses.ReadAsync(store, listed));

        // At a chunk boundary the file still holds the step's own loss, and a fresh job (nothing sealed) writes them all.
        var boundary = JobStateWriters.Writer(storage, GrainId.Create("trainingjob", "size-boundary"));
        await boundary.ReadAsync();
        boundary.ClaimEpoch();
        await boundary.Flush();
        foreach (double loss in losses.Take(2 * JobStateWriter.LossChunkSize)) boundary.AddLoss(loss);
        var unsealed = boundary.LossesForCheckpoint();
        Assert.Equal(0, unsealed.From);
        await boundary.Flush();
        var sealedSlice = boundary.LossesForCheckpoint();
        Assert.Equal(2 * JobStateWriter.LossChunkSize - 1, sealedSlice.From);
        Assert.Equal(BitConverter.DoubleToInt64Bits(losses[(2 * JobStateWriter.LossChunkSize) - 1]), BitConverter.DoubleToInt64Bits(sealedSlice.StepLoss!.Value));
        Assert.Equal(unsealed.HistorySha256, sealedSlice.HistorySha256);
    }

    private static void AssertSame(double[] expected, double[] actual) =>
        Assert.True(expected.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(actual.Select(BitConverter.DoubleToInt64Bits)), "the rebuilt loss history differs");

    private static double[] Losses(long steps) => [.. Enumerable.Range(0, (int)steps).Select(i => 5.545177444479562 / (1 + (i * 1e-3)))];

    /// <summary>Commits a checkpoint at <paramref name="step"/> the way the job's checkpoint coordinator does (loss file, then manifest).</summary>
    private static async Task<(CheckpointManifest Manifest, double[] Losses)> Commit(ICheckpointStore store, long step, CheckpointLossSlice? slice = null)
    {
        var spec = TinyJob.Spec("size", stages: 2, steps: (int)step);
        var plan = JobSpecs.PlanOf(spec);
        double[] losses = Losses(step);
        var shards = new List<ShardRecord>();
        for (int unit = 0; unit < plan.UnitsPerStage.Sum(); unit++)
        {
            byte[] content = [(byte)unit, 1, 2, 3];
            string name = $"unit-{unit}.safetensors";
            await store.WriteShardAsync("size", 1, step, name, content);
            shards.Add(new ShardRecord(unit < plan.UnitsPerStage[0] ? 0 : 1, unit, $"unit{unit}", name, content.Length, Convert.ToHexStringLower(SHA256.HashData(content))));
        }
        var lossLog = await CheckpointLosses.WriteAsync(store, "size", 1, step, slice ?? CheckpointLossSlice.Whole(losses));
        var manifest = CheckpointCoordinator.ManifestOf("size", spec, plan, 1, step, DateTimeOffset.UnixEpoch, shards, losses[^1], lossLog);
        await store.CommitManifestAsync(manifest);
        return (manifest, losses);
    }
}
