using System.Runtime.InteropServices;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;
using CsCheck;
using TorchSharp;

namespace Cluster.Kernels.Tests;

/// <summary>
/// The checksum of an image's data: new images record an XXH3-128 (the per-step in-memory snapshots hash every byte,
/// and SHA-256 was most of their CPU cost), a damaged copy fails it at restore, and images written with a SHA-256
/// before still parse and are verified with it.
/// </summary>
public sealed class ImageChecksumTests
{
    /// <summary>
    /// Written by <c>SafeTensors.Serialize</c> before XXH3-128 (commit 6631df1): weight F32[2,2] = 1, 2, 3, 4, ids I64[2] = 7, 9,
    /// metadata format=legacy-test and the SHA-256 of the data under "sha256".
    /// </summary>
    private const string Sha256Image =
        "8AAAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJsZWdhY3ktdGVzdCIsInNoYTI1NiI6IjU0NzQ0YzBiNzlhZmY4YmNiNzY1Y2NhNzI3NzJiNTQyMWRiOTUyYmQ2MzE5YzAwOGIxNjk4YWQ4YmRlYTFmNTQifSwid2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsyLDJdLCJkYXRhX29mZnNldHMiOlswLDE2XX0sImlkcyI6eyJkdHlwZSI6Ikk2NCIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzE2LDMyXX19ICAgICAAAIA/AAAAQAAAQEAAAIBABwAAAAAAAAAJAAAAAAAAAA==";

    private static long DataStart(byte[] image) => 8 + BitConverter.ToInt64(image, 0);

    [Fact]
    public void New_images_record_the_xxh3_128_of_their_data_and_no_sha256()
    {
        List<KeyValuePair<string, WireTensor>> tensors = [new("w", TinyModel.RandomTensor(WireDType.Float32, [5, 7], 1)), new("b", TinyModel.RandomTensor(WireDType.Float32, [7], 2))];
        byte[] image = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["format"] = "test" });
        var content = SafeTensors.Parse(image, "memory");
        string expected = Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(image.AsSpan((int)DataStart(image))));
        Assert.Equal(expected, content.GetMetadata(SafeTensors.ChecksumKey));
        Assert.False(content.Metadata.ContainsKey(SafeTensors.Sha256ChecksumKey));
    }

    [Fact]
    public void The_checksum_is_the_reference_xxh3_128_so_other_tools_can_check_it()
    {
        // XXH3_128bits("", seed 0) in xxHash's canonical (big-endian) form, as Python's xxhash.xxh3_128_hexdigest(b"") prints it.
        Assert.Equal("99aa06d3014798d86001c324468d497f", ChunkedBytes.Of([]).Xxh128Hex());
    }

    [Fact]
    public void Checksums_given_as_metadata_are_not_written_over_the_computed_one()
    {
        List<KeyValuePair<string, WireTensor>> tensors = [new("w", TinyModel.RandomTensor(WireDType.Float32, [3], 1))];
        var forged = new Dictionary<string, string> { [SafeTensors.ChecksumKey] = new string('0', 32), [SafeTensors.Sha256ChecksumKey] = new string('0', 64) };
        var content = SafeTensors.Parse(SafeTensors.Serialize(tensors, forged), "memory");
        Assert.NotEqual(new string('0', 32), content.GetMetadata(SafeTensors.ChecksumKey));
        Assert.False(content.Metadata.ContainsKey(SafeTensors.Sha256ChecksumKey));
    }

    [Fact]
    public void An_image_written_with_a_sha256_still_parses()
    {
        var content = SafeTensors.Parse(Convert.FromBase64String(Sha256Image), "old image");
        Assert.Equal("legacy-test", content.GetMetadata("format"));
        Assert.Equal(64, content.GetMetadata(SafeTensors.Sha256ChecksumKey).Length);
        Assert.False(content.Metadata.ContainsKey(SafeTensors.ChecksumKey));
        Assert.Equal(new float[] { 1, 2, 3, 4 }, MemoryMarshal.Cast<byte, float>(content.Get("weight").Data).ToArray());
        Assert.Equal(new long[] { 7, 9 }, MemoryMarshal.Cast<byte, long>(content.Get("ids").Data).ToArray());
    }

    [Fact]
    public void A_flipped_byte_in_an_image_written_with_a_sha256_fails_its_sha256()
    {
        byte[] image = Convert.FromBase64String(Sha256Image);
        image[DataStart(image) + 17] ^= 0x01; // in the ids
        var e = Assert.Throws<CheckpointCorruptException>(() => SafeTensors.Parse(image, "old image"));
        Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Equal("old image", e.Source);
    }

    [Fact]
    public void Any_flipped_bit_of_the_data_fails_the_checksum()
    {
        var images = Gen.Int[1, 64].Select(Gen.Int[1, 4], Gen.Int[0, 1000], (elements, count, seed) =>
        {
            List<KeyValuePair<string, WireTensor>> tensors = [.. Enumerable.Range(0, count).Select(i => new KeyValuePair<string, WireTensor>($"t{i}", TinyModel.RandomTensor(WireDType.Float32, [elements], seed + i)))];
            return SafeTensors.Serialize(tensors);
        });
        images.SelectMany(image => Gen.Long[DataStart(image), image.Length - 1].Select(Gen.Int[0, 7], (at, bit) => (image, at, bit)))
            .Sample(c =>
            {
                byte[] damaged = (byte[])c.image.Clone();
                damaged[c.at] ^= (byte)(1 << c.bit);
                var e = Assert.Throws<CheckpointCorruptException>(() => SafeTensors.Parse(damaged, "damaged"));
                Assert.Contains("XXH3-128", e.Message, StringComparison.Ordinal);
            }, iter: 300);
    }

    [Fact]
    public void A_unit_image_whose_checksum_key_was_damaged_is_refused()
    {
        byte[] image = UnitStateCodec.Encode(TinyModel.Config, 1, "block.0", 3, [("block.0.w", TinyModel.RandomTensor(WireDType.Float32, [4], 1),
            TinyModel.RandomTensor(WireDType.Float32, [4], 2), TinyModel.RandomTensor(WireDType.Float32, [4], 3))]);
        Assert.Equal(3, UnitStateCodec.Decode(TinyModel.Config, "block.0", image, "intact").OptimizerSteps);
        int key = image.AsSpan().IndexOf("\"xxh128\""u8);
        Assert.True(key > 0, "the image records its checksum under \"xxh128\"");
        image[key + 6] = (byte)'9'; // "xxh129": still valid JSON, but the data would go unchecked
        var e = Assert.Throws<CheckpointCorruptException>(() => UnitStateCodec.Decode(TinyModel.Config, "block.0", image, "damaged header"));
        Assert.Equal("damaged header", e.Source);
        Assert.Contains("no checksum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupted_in_memory_snapshot_is_refused_at_restore_with_a_clear_error()
    {
        using var source = new StageExecutor(StagePlan.Balanced(TinyModel.Config, 2), 1, TinyModel.Options().Optimizer, torch.CPU);
        // At optimizer step 5, so a restore that took effect is told from the target's own (identical, step 0) state.
        var images = source.CopyStateIntoKeptBuffers().Select(c => (c with { OptimizerSteps = 5 }).Encode(TinyModel.Config)).ToList();
        var victim = images[^1];
        var chunk = victim.Image.Chunks[^1];
        chunk[^3] ^= 0x40; // the last tensor's data: a bit flipped in memory or on the way
        using var target = new StageExecutor(StagePlan.Balanced(TinyModel.Config, 2), 1, TinyModel.Options().Optimizer, torch.CPU);
        string Source(string unit) => $"holder of {unit} (memory, step 0)";
        var e = Assert.Throws<CheckpointCorruptException>(() => target.ImportState(unit => (images.Single(i => i.UnitName == unit).Image, Source(unit))));
        Assert.Equal(Source(victim.UnitName), e.Source);
        Assert.Contains("XXH3-128", e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);

        chunk[^3] ^= 0x40; // undamaged, the same images restore
        target.ImportState(unit => (images.Single(i => i.UnitName == unit).Image, Source(unit)));
        Assert.Equal(5, target.CompletedSteps);
        Assert.Equal(images.Select(i => i.Image.ToArray()), target.ExportState().Select(i => i.Image.ToArray()));
    }
}
