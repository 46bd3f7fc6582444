using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Config;
using Cluster.Kernels.Wire;

namespace Cluster.Grains.Tests;

/// <summary>Runs alone: its large test holds several GiB at its peak (the input, the holder's image, a read-back image and its decoded tensors), which the shared test machine should not see twice.</summary>
[CollectionDefinition(nameof(LargeUnitSnapshots), DisableParallelization = true)]
public sealed class LargeUnitSnapshots;

/// <summary>
/// A unit's snapshot image crosses grain calls a chunk per call and is written to and read from the file-system store
/// chunk by chunk, so a unit whose state is over 2 GiB (more than one array, or one Orleans message, holds) is held in
/// memory by its snapshot holder and checkpointed durably; the SHA-256 is over the whole image. The test client is
/// outside the silo, so every call is a serialized message under Orleans' default 100 MiB limit.
/// </summary>
[Collection(nameof(LargeUnitSnapshots))]
public sealed class LargeUnitSnapshotTests(OneSiloClusterFixture fixture) : IClassFixture<OneSiloClusterFixture>
{
    private static readonly ModelConfig s_config = new();

    [Fact]
    public async Task Image_in_many_chunks_goes_to_a_holder_and_the_store_and_back_bit_for_bit()
    {
        string jobId = "chunked-small-" + Guid.NewGuid().ToString("N")[..8];
        var random = new Random(7);
        var data = new byte[3][];
        for (int i = 0; i < 3; i++)
        {
            data[i] = new byte[4 * 2500];
            random.NextBytes(data[i]);
        }
        var tensors = new (string, WireTensor, WireTensor, WireTensor)[]
        {
            ("block.0.w", new WireTensor(WireDType.Float32, [50, 50], data[0]), new WireTensor(WireDType.Float32, [50, 50], data[1]), new WireTensor(WireDType.Float32, [2500], data[2])),
        };
        // 1000-byte chunks: the header and every tensor straddle chunk boundaries.
        var image = UnitStateCodec.EncodeChunks(s_config, 1, "block.0", 12, tensors, maxChunkBytes: 1000);
        Assert.True(image.Chunks.Count > 30, $"{image.Chunks.Count} chunks");
        Assert.Equal(UnitStateCodec.Encode(s_config, 1, "block.0", 12, tensors), image.ToArray()); // the same file, however it is cut

        await RoundTrip(jobId, () => new UnitStateImage(1, "block.0", 12, image), image.Length, content =>
        {
            Assert.Equal(data[0], content.Get("block.0.w").Data);
            Assert.Equal(data[1], content.Get(UnitStateCodec.ExpAvgPrefix + "block.0.w").Data);
            Assert.Equal(data[2], content.Get(UnitStateCodec.ExpAvgSqPrefix + "block.0.w").Data);
        });
    }

    [Fact]
    public async Task An_accept_whose_chunks_never_arrived_is_refused()
    {
        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key("chunked-missing-" + Guid.NewGuid().ToString("N")[..8], 0, 0));
        var header = new UnitImage(0, "embed", [1, 2, 3]) { SeparateChunks = 2 };
        await holder.AcceptChunk(1, 5, new UnitImageChunk(0, 1, [4]));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => holder.Accept(1, 5, 0, [header], durable: false));
        Assert.Contains("chunk 2", e.Message, StringComparison.Ordinal);
        Assert.Null(await holder.GetSnapshot(5));
    }

    [Fact]
    public async Task An_image_from_before_chunks_is_the_whole_image()
    {
        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key("chunked-old-" + Guid.NewGuid().ToString("N")[..8], 0, 0));
        byte[] image = UnitStateCodec.Encode(s_config, 0, "embed", 3, [("embed.weight", new WireTensor(WireDType.Float32, [2], new byte[8]), new WireTensor(WireDType.Float32, [2], new byte[8]), new WireTensor(WireDType.Float32, [2], new byte[8]))]);
        // What an older sender's message reads as: the new fields absent, so the serializer leaves MoreChunks null.
        await holder.Accept(1, 3, 0, [new UnitImage(0, "embed", image) { MoreChunks = null! }], durable: true);
        var record = Assert.Single(await holder.WaitDurable(1, 3));
        Assert.Equal(image.LongLength, record.Bytes);
        var held = Assert.Single(Assert.IsAssignableFrom<IReadOnlyList<UnitImage>>(await holder.GetSnapshot(3)));
        Assert.Equal(0, held.SeparateChunks);
        Assert.Equal(image, UnitImages.Bytes(held).ToArray());
    }

    /// <summary>
    /// One unit of just over 2 GiB of state: a Float32 parameter and its two moments of 715,827,888 bytes each
    /// (3 × that = 2^31 + 16 bytes of tensor data; the three share one array, so the input is one third of it).
    /// </summary>
    [Fact]
    public async Task Unit_state_just_over_2_GiB_is_snapshotted_to_a_holder_and_checkpointed()
    {
        const long elements = ((1L << 31) + 16) / 3 / 4; // 178,956,972 floats
        string jobId = "chunked-large-" + Guid.NewGuid().ToString("N")[..8];
        var chunks = WireChunks.Allocate(elements * 4, 4);
        var random = new Random(2026);
        foreach (var chunk in chunks) random.NextBytes(chunk);
        var tensor = WireTensor.FromChunks(WireDType.Float32, [elements], chunks);
        var copy = new UnitStateCopy(3, "block.2", 40, [("block.2.mlp.weight", tensor, tensor, tensor)]);

        await RoundTrip(jobId, () => copy.Encode(s_config), (1L << 31) + 17, content =>
        {
            foreach (string name in new[] { "block.2.mlp.weight", UnitStateCodec.ExpAvgPrefix + "block.2.mlp.weight", UnitStateCodec.ExpAvgSqPrefix + "block.2.mlp.weight" })
                AssertSameBytes(tensor, content.Get(name), name);
        });
        GC.Collect(); // give the gigabytes back now, not when the next test allocates
    }

    /// <summary>
    /// Sends the image to holder 0 of a stage as a stage does (durably), then reads it back three ways: from the
    /// store, as a restore from a checkpoint does; through <see cref="ICheckpointShardGrain.GetSnapshot"/>, as a
    /// restore from memory does; and decodes the stored copy.
    /// </summary>
    private async Task RoundTrip(string jobId, Func<UnitStateImage> encode, long minLength, Action<SafeTensorsContent> checkContent)
    {
        var holder = fixture.Client.GetGrain<ICheckpointShardGrain>(SnapshotHolders.Key(jobId, 1, 0));
        var (step, unitName, length, sha256) = await Send(holder, encode, minLength);
        var record = Assert.Single(await holder.WaitDurable(1, step));
        Assert.Equal(length, record.Bytes);
        Assert.Equal(sha256, record.Sha256);

        // The durable copy, read back chunk by chunk, as a restore from a checkpoint does.
        var store = new FileSystemCheckpointStore(Path.Combine(fixture.DataRoot, "checkpoints"));
        var stored = await store.ReadShardChunksAsync(jobId, 1, step, record.Name);
        Assert.Equal(length, stored.Length);
        Assert.Equal(sha256, stored.Sha256Hex());
        var (content, steps) = UnitStateCodec.Decode(s_config, unitName, stored, record.Name);
        Assert.Equal(step, steps);
        checkContent(content);
        content = null!;
        stored = null!;
        GC.Collect();

        // The in-memory copy, fetched a chunk per call, as a restore from memory does.
        var headers = await holder.GetSnapshot(step);
        var unit = Assert.Single(Assert.IsAssignableFrom<IReadOnlyList<UnitImage>>(headers));
        var whole = Assert.Single(Assert.IsAssignableFrom<IReadOnlyList<UnitImage>>(
            await UnitImages.FetchAsync(headers, (u, i) => holder.GetSnapshotChunk(step, u, i))));
        Assert.Equal(length, UnitImages.Bytes(whole).Length);
        Assert.Equal(sha256, UnitImages.Bytes(whole).Sha256Hex());
        Assert.True(unit.MoreChunksOrNone.Length == 0 && unit.SeparateChunks == whole.MoreChunksOrNone.Length, "the header carries one chunk and counts the rest");
    }

    /// <summary>Encodes and sends; only the holder keeps the image once this returns.</summary>
    private static async Task<(long Step, string UnitName, long Length, string Sha256)> Send(ICheckpointShardGrain holder, Func<UnitStateImage> encode, long minLength)
    {
        var image = encode();
        long length = image.Image.Length;
        Assert.True(length >= minLength, $"the image is {length} bytes");
        Assert.All(image.Image.Chunks, c => Assert.True(c.Length <= ChunkedBytes.DefaultChunkBytes));
        string sha256 = image.Image.Sha256Hex();
        await UnitImages.SendAsync(holder, new SnapshotRecord(image.OptimizerSteps, 1, null), stage: 1, [UnitImages.Whole(image)], durable: true);
        return (image.OptimizerSteps, image.UnitName, length, sha256);
    }

    /// <summary>Compares two chunked tensors' bytes without joining them.</summary>
    private static void AssertSameBytes(WireTensor expected, WireTensor actual, string name)
    {
        Assert.Equal(expected.ByteLength, actual.ByteLength);
        Assert.Equal(expected.Shape, actual.Shape);
        var a = new ChunkedBytes(expected.Chunks);
        var b = new ChunkedBytes(actual.Chunks);
        var left = new byte[1 << 20];
        var right = new byte[1 << 20];
        for (long at = 0; at < a.Length; at += left.Length)
        {
            int n = (int)Math.Min(left.Length, a.Length - at);
            a.CopyTo(at, left.AsSpan(0, n));
            b.CopyTo(at, right.AsSpan(0, n));
            Assert.True(left.AsSpan(0, n).SequenceEqual(right.AsSpan(0, n)), $"tensor '{name}' differs in bytes [{at}, {at + n})");
        }
    }
}
