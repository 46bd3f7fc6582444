using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Kernels.Checkpoint;

namespace Cluster.Grains.Tests;

/// <summary>
/// What every <see cref="ICheckpointStore"/> promises. Each concrete subclass runs all of these against its store; every
/// test uses its own job ids, so stores may share storage between tests.
/// </summary>
public abstract partial class CheckpointStoreContract : IAsyncLifetime
{
    private static readonly string[] s_units = ["embed", "block.0", "head"];

    /// <summary>The epoch the checkpoints of these tests are written in, unless a test says otherwise.</summary>
    protected const long Epoch = 3;

    private ICheckpointStore? _store;

    protected ICheckpointStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>A fresh, empty store for one test.</summary>
    protected abstract Task<ICheckpointStore> CreateStoreAsync();

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public Task DisposeAsync() => DisposeStoreAsync();

    [Fact]
    public async Task Written_shards_read_back_exactly()
    {
        string job = NewJobId();
        byte[] a = RandomBytes(12_345, seed: 1);
        byte[] b = RandomBytes(1, seed: 2);
        await Store.WriteShardAsync(job, Epoch, 7, "a.safetensors", a);
        await Store.WriteShardAsync(job, Epoch, 7, "b.safetensors", b);
        await Store.WriteShardAsync(job, Epoch, 7, "empty.safetensors", ReadOnlyMemory<byte>.Empty);

        Assert.Equal(a, await Store.ReadShardAsync(job, Epoch, 7, "a.safetensors"));
        Assert.Equal(b, await Store.ReadShardAsync(job, Epoch, 7, "b.safetensors"));
        Assert.Empty(await Store.ReadShardAsync(job, Epoch, 7, "empty.safetensors"));
    }

    /// <summary>A shard held in chunks (a unit image over 2 GiB is) streams in and out: the same bytes either way it is read.</summary>
    [Fact]
    public async Task A_shard_written_in_chunks_reads_back_exactly_in_chunks_or_whole()
    {
        string job = NewJobId();
        byte[] all = RandomBytes(300_001, seed: 4);
        var chunks = new ChunkedBytes([all[..100_000], all[100_000..200_000], all[200_000..]]);
        await Store.WriteShardChunksAsync(job, Epoch, 9, "c.safetensors", chunks);

        Assert.Equal(all, await Store.ReadShardAsync(job, Epoch, 9, "c.safetensors"));
        var back = await Store.ReadShardChunksAsync(job, Epoch, 9, "c.safetensors");
        Assert.Equal(all.LongLength, back.Length);
        Assert.Equal(chunks.Sha256Hex(), back.Sha256Hex());
        Assert.Equal(all, back.ToArray());
        await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardChunksAsync(job, Epoch, 9, "absent.safetensors"));
    }

    [Fact]
    public async Task Reading_a_missing_shard_throws_CheckpointCorruptException_naming_it()
    {
        string job = NewJobId();
        await Store.WriteShardAsync(job, Epoch, 3, "present.safetensors", RandomBytes(10, seed: 3));

        // Missing from an existing step, and a step that was never written.
        foreach (long step in new long[] { 3, 4 })
        {
            var e = await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardAsync(job, Epoch, step, "absent.safetensors"));
            Assert.Contains("absent.safetensors", e.Source, StringComparison.Ordinal);
            Assert.Contains(job, e.Source, StringComparison.Ordinal);
            Assert.Contains($"step-{step:D8}", e.Source, StringComparison.Ordinal);
            Assert.Contains($"epoch-{Epoch:D8}", e.Source, StringComparison.Ordinal);
            Assert.Contains(e.Source, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_checkpoint_is_not_listed_before_its_manifest_is_committed()
    {
        string job = NewJobId();
        var manifest = await WriteCheckpointAsync(job, 5, commit: false);

        Assert.Empty(await Store.ListManifestsAsync(job));

        await Store.CommitManifestAsync(manifest);
        var listed = Assert.Single(await Store.ListManifestsAsync(job));
        AssertManifestEqual(manifest, listed);
    }

    [Fact]
    public async Task Commit_refuses_a_manifest_whose_shards_are_missing_or_have_another_size()
    {
        string job = NewJobId();
        var manifest = await WriteCheckpointAsync(job, 9, commit: false);

        var missing = manifest with { Shards = [.. manifest.Shards, new ShardRecord(1, 3, "block.1", "block.1.safetensors", 10, new string('0', 64))] };
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CommitManifestAsync(missing));

        var resized = manifest with { Shards = [manifest.Shards[0] with { Bytes = manifest.Shards[0].Bytes + 1 }, .. manifest.Shards.Skip(1)] };
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CommitManifestAsync(resized));

        Assert.Empty(await Store.ListManifestsAsync(job));
    }

    [Fact]
    public async Task Listing_returns_committed_checkpoints_by_step_with_their_full_content()
    {
        string job = NewJobId();
        // Committed out of order, plus an uncommitted shard set in between.
        var thirty = await WriteCheckpointAsync(job, 30);
        var ten = await WriteCheckpointAsync(job, 10);
        await WriteCheckpointAsync(job, 25, commit: false);
        var twenty = await WriteCheckpointAsync(job, 20);

        var listed = await Store.ListManifestsAsync(job);

        Assert.Equal([10L, 20L, 30L], listed.Select(m => m.Step));
        AssertManifestEqual(ten, listed[0]);
        AssertManifestEqual(twenty, listed[1]);
        AssertManifestEqual(thirty, listed[2]);
    }

    [Fact]
    public async Task A_manifest_names_its_loss_file_and_the_step_loss_and_both_round_trip()
    {
        string job = NewJobId();
        var manifest = await WriteCheckpointAsync(job, 3, commit: false);
        var lossLog = await CheckpointLosses.WriteAsync(Store, job, manifest.Epoch, 3, [double.NaN, -0.0, 5.545177444479562]);
        manifest = manifest with { Loss = 5.545177444479562, LossLog = lossLog };

        await Store.CommitManifestAsync(manifest);

        var listed = Assert.Single(await Store.ListManifestsAsync(job));
        AssertManifestEqual(manifest, listed);
        double[] expected = [double.NaN, -0.0, 5.545177444479562];
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), (await CheckpointLosses.ReadAsync(Store, listed)).Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public async Task Manifest_losses_round_trip_bit_exactly_including_non_finite_values()
    {
        string job = NewJobId();
        var manifest = await WriteCheckpointAsync(job, 4, commit: false);
        manifest = manifest with
        {
            LossHistory = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, 0.1 + 0.2, double.MaxValue, 5.545177444479562],
        };

        await Store.CommitManifestAsync(manifest);

        AssertManifestEqual(manifest, Assert.Single(await Store.ListManifestsAsync(job)));
    }

    [Fact]
    public async Task Jobs_are_isolated()
    {
        // Ids that are prefixes of each other catch listings by a bare string prefix.
        string job = NewJobId();
        string longer = job + "-2";
        var mine = await WriteCheckpointAsync(job, 1);
        var theirs = await WriteCheckpointAsync(longer, 2);
        await WriteCheckpointAsync(longer, 3, commit: false);

        AssertManifestEqual(mine, Assert.Single(await Store.ListManifestsAsync(job)));
        AssertManifestEqual(theirs, Assert.Single(await Store.ListManifestsAsync(longer)));
        Assert.Empty(await Store.ListManifestsAsync(NewJobId()));
        await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardAsync(job, Epoch, 2, theirs.Shards[0].Name));

        // Cleaning one job leaves the other's uncommitted work alone.
        await Store.DeleteUncommittedAsync(job, long.MaxValue, long.MaxValue);
        Assert.NotNull(await Store.ReadShardAsync(longer, Epoch, 3, "embed.safetensors"));
    }

    [Fact]
    public async Task Deleting_a_checkpoint_unlists_it_and_removes_its_shards()
    {
        string job = NewJobId();
        var one = await WriteCheckpointAsync(job, 1);
        var two = await WriteCheckpointAsync(job, 2);

        await Store.DeleteCheckpointAsync(Listed(await Store.ListManifestsAsync(job), 1));

        AssertManifestEqual(two, Assert.Single(await Store.ListManifestsAsync(job)));
        foreach (var shard in one.Shards)
            await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardAsync(job, Epoch, 1, shard.Name));
        foreach (var shard in two.Shards)
            Assert.Equal(shard.Bytes, (await Store.ReadShardAsync(job, Epoch, 2, shard.Name)).Length);

        // Deleting again, or a step that never existed, is not an error.
        await Store.DeleteCheckpointAsync(one);
        await Store.DeleteCheckpointAsync(one with { Step = 99 });
        Assert.Single(await Store.ListManifestsAsync(job));
    }

    [Fact]
    public async Task DeleteUncommitted_removes_only_shard_sets_without_manifest_older_than_the_given_point()
    {
        string job = NewJobId();
        var committed = await WriteCheckpointAsync(job, 10);
        var abandoned = await WriteCheckpointAsync(job, 20, commit: false);
        var inProgress = await WriteCheckpointAsync(job, 30, commit: false);

        await Store.DeleteUncommittedAsync(job, Epoch, 30);

        await AssertGoneAsync(abandoned);
        await AssertReadableAsync(committed);
        await AssertReadableAsync(inProgress);
        AssertManifestEqual(committed, Assert.Single(await Store.ListManifestsAsync(job)));

        // The set at the given point itself can still be committed afterwards.
        await Store.CommitManifestAsync(inProgress);
        Assert.Equal([10L, 30L], (await Store.ListManifestsAsync(job)).Select(m => m.Step));
    }

    [Fact]
    public async Task Overwriting_a_shard_replaces_its_content()
    {
        string job = NewJobId();
        byte[] large = RandomBytes(50_000, seed: 4);
        byte[] small = RandomBytes(100, seed: 5);

        await Store.WriteShardAsync(job, Epoch, 1, "unit.safetensors", large);
        await Store.WriteShardAsync(job, Epoch, 1, "unit.safetensors", small);
        Assert.Equal(small, await Store.ReadShardAsync(job, Epoch, 1, "unit.safetensors"));

        await Store.WriteShardAsync(job, Epoch, 1, "unit.safetensors", large);
        Assert.Equal(large, await Store.ReadShardAsync(job, Epoch, 1, "unit.safetensors"));
    }

    [Fact]
    public async Task A_large_shard_round_trips()
    {
        string job = NewJobId();
        byte[] content = RandomBytes((8 << 20) + 13, seed: 6);

        await Store.WriteShardAsync(job, Epoch, 1, "big.safetensors", content);

        byte[] read = await Store.ReadShardAsync(job, Epoch, 1, "big.safetensors");
        Assert.True(content.AsSpan().SequenceEqual(read), "the 8 MB shard came back different");
    }

    [Fact]
    public async Task Operations_with_a_cancelled_token_throw_OperationCanceledException_and_change_nothing()
    {
        string job = NewJobId();
        var manifest = await WriteCheckpointAsync(job, 1, commit: false);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.WriteShardAsync(job, Epoch, 2, "x.safetensors", new byte[10], token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.ReadShardAsync(job, Epoch, 1, "embed.safetensors", token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.CommitManifestAsync(manifest, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.ListManifestsAsync(job, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.DeleteCheckpointAsync(manifest, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.DeleteUncommittedAsync(job, long.MaxValue, long.MaxValue, token));

        await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardAsync(job, Epoch, 2, "x.safetensors"));
        Assert.Empty(await Store.ListManifestsAsync(job));
        Assert.Equal(manifest.Shards[0].Bytes, (await Store.ReadShardAsync(job, Epoch, 1, "embed.safetensors")).Length);
    }

    [Fact]
    public async Task Names_that_are_not_one_plain_path_segment_are_rejected()
    {
        string job = NewJobId();
        byte[] content = [1, 2, 3];
        foreach (string badJob in new[] { "", " ", "a/b", "a\\b", "..", ".", "tab\there" })
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.WriteShardAsync(badJob, Epoch, 1, "unit.safetensors", content));
        // "manifest.json" would commit the checkpoint behind the manifest's back; '.' names are the file store's temporaries.
        foreach (string badName in new[] { "", "x/y", "..", "manifest.json", "MANIFEST.JSON", ".hidden" })
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.WriteShardAsync(job, Epoch, 1, badName, content));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.WriteShardAsync(job, Epoch, -1, "unit.safetensors", content));
        // Epoch -1 names the flat layout of earlier versions: read, never written.
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.WriteShardAsync(job, -1, 1, "unit.safetensors", content));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.ListManifestsAsync("../" + job));

        Assert.Empty(await Store.ListManifestsAsync(job));
        await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardAsync(job, Epoch, 1, "unit.safetensors"));
    }

    /// <summary>The listed checkpoint of <paramref name="step"/> (the only one there).</summary>
    protected static CheckpointManifest Listed(IReadOnlyList<CheckpointManifest> listed, long step) => Assert.Single(listed, m => m.Step == step);

    /// <summary>Every shard of the shard set <paramref name="manifest"/> names reads back with its recorded size and hash.</summary>
    protected async Task AssertReadableAsync(CheckpointManifest manifest)
    {
        foreach (var shard in manifest.Shards)
        {
            byte[] content = await Store.ReadShardAsync(manifest, shard.Name);
            Assert.Equal(shard.Sha256, Convert.ToHexStringLower(SHA256.HashData(content)));
        }
    }

    /// <summary>No shard of the shard set <paramref name="manifest"/> names is left.</summary>
    protected async Task AssertGoneAsync(CheckpointManifest manifest)
    {
        foreach (var shard in manifest.Shards)
            await Assert.ThrowsAsync<CheckpointCorruptException>(() => Store.ReadShardAsync(manifest, shard.Name));
    }

    protected static string NewJobId() => $"job-{Guid.NewGuid():N}"[..16];

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes the shards of a small three-unit, two-stage checkpoint and, unless told not to, commits its manifest.</summary>
    protected async Task<CheckpointManifest> WriteCheckpointAsync(string jobId, long step, bool commit = true, long epoch = Epoch, int seed = 0)
    {
        var shards = new List<ShardRecord>();
        for (int unit = 0; unit < s_units.Length; unit++)
        {
            byte[] content = RandomBytes(1_000 + (37 * unit) + (int)step, seed: (int)step * 10 + unit + (seed * 1_000));
            string name = $"{s_units[unit]}.safetensors";
            await Store.WriteShardAsync(jobId, epoch, step, name, content);
            shards.Add(new ShardRecord(unit < 2 ? 0 : 1, unit, s_units[unit], name, content.Length, Convert.ToHexStringLower(SHA256.HashData(content))));
        }
        var manifest = new CheckpointManifest
        {
            JobId = jobId,
            Step = step,
            Epoch = epoch,
            CreatedAt = new DateTimeOffset(2025, 11, 28, 17, 5, 9, TimeSpan.FromHours(5.5)).AddTicks(1_234_567 + step),
            Model = new ModelSpec { VocabSize = 256, ContextLength = 64, DModel = 96, Layers = 1, Heads = 3, MlpRatio = 4, Seed = -42 },
            UnitsPerStage = [2, 1],
            Shards = shards,
            DataSource = "synthetic:ünïcode ✓ \"quoted\"",
            DataSeed = long.MaxValue - step,
            MicroBatches = 4,
            MicroBatchSize = 8,
            LossHistory = [.. Enumerable.Range(0, (int)step).Select(i => 5.545177444479562 / (1 + (i * 0.1)))],
        };
        if (commit) await Store.CommitManifestAsync(manifest);
        return manifest;
    }

    /// <summary>Field-by-field equality (the record's own equality compares its arrays and lists by reference); doubles by bits.</summary>
    protected static void AssertManifestEqual(CheckpointManifest expected, CheckpointManifest actual)
    {
        Assert.Equal(expected.JobId, actual.JobId);
        Assert.Equal(expected.Step, actual.Step);
        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.CreatedAt.Offset, actual.CreatedAt.Offset);
        Assert.Equal(expected.Model, actual.Model);
        Assert.Equal(expected.UnitsPerStage, actual.UnitsPerStage);
        Assert.Equal(expected.Shards, actual.Shards);
        Assert.Equal(expected.DataSource, actual.DataSource);
        Assert.Equal(expected.DataSeed, actual.DataSeed);
        Assert.Equal(expected.MicroBatches, actual.MicroBatches);
        Assert.Equal(expected.MicroBatchSize, actual.MicroBatchSize);
        Assert.Equal(expected.LossHistory.Select(BitConverter.DoubleToInt64Bits), actual.LossHistory.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(expected.Loss.HasValue, actual.Loss.HasValue);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Loss ?? 0), BitConverter.DoubleToInt64Bits(actual.Loss ?? 0));
        Assert.Equal(expected.LossLog, actual.LossLog);
    }
}
