using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Config;
using Cluster.Kernels.Training;
using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Tests;

/// <summary>
/// A safetensors image held in chunks (a unit over 2 GiB of state) is byte for byte the one-array image, however it is
/// cut; it parses and verifies its checksum across chunk boundaries, and goes to a file and back chunk by chunk.
/// </summary>
public sealed class ChunkedImageTests : IDisposable
{
    private readonly string _directory = TinyModel.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static WireTensor Make(WireDType dtype, long[] shape, int seed) => TinyModel.RandomTensor(dtype, shape, seed);

    private static readonly (string, WireTensor, WireTensor, WireTensor)[] s_parameters =
    [
        ("block.0.w", Make(WireDType.Float32, [17, 13], 1), Make(WireDType.Float32, [17, 13], 2), Make(WireDType.Float32, [17, 13], 3)),
        ("block.0.b", Make(WireDType.Float32, [13], 4), Make(WireDType.Float32, [13], 5), Make(WireDType.Float32, [13], 6)),
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1 << 20)]
    public void Chunks_hold_the_same_image_and_parse_to_the_same_tensors(int chunkBytes)
    {
        var config = new ModelConfig();
        byte[] whole = UnitStateCodec.Encode(config, 1, "block.0", 9, s_parameters);
        var chunked = UnitStateCodec.EncodeChunks(config, 1, "block.0", 9, s_parameters, chunkBytes);
        Assert.Equal((whole.Length + chunkBytes - 1) / chunkBytes, chunked.Chunks.Count);
        Assert.Equal(whole, chunked.ToArray());

        var (content, steps) = UnitStateCodec.Decode(config, "block.0", chunked, "chunked");
        Assert.Equal(9, steps);
        foreach (var (name, parameter, expAvg, expAvgSq) in s_parameters)
        {
            Assert.Equal(parameter.Data, content.Get(name).Data);
            Assert.Equal(expAvg.Data, content.Get(UnitStateCodec.ExpAvgPrefix + name).Data);
            Assert.Equal(expAvgSq.Data, content.Get(UnitStateCodec.ExpAvgSqPrefix + name).Data);
        }
    }

    [Fact]
    public void A_flipped_byte_in_a_later_chunk_fails_the_checksum_over_the_whole_image()
    {
        var chunked = UnitStateCodec.EncodeChunks(new ModelConfig(), 1, "block.0", 9, s_parameters, 100);
        chunked.Chunks[^2][50] ^= 0x10;
        var e = Assert.Throws<CheckpointCorruptException>(() => UnitStateCodec.Decode(new ModelConfig(), "block.0", chunked, "flipped"));
        Assert.Contains("XXH3-128", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chunked_image_goes_to_a_file_and_back_and_old_one_array_files_still_read()
    {
        var config = new ModelConfig();
        var chunked = UnitStateCodec.EncodeChunks(config, 1, "block.0", 9, s_parameters, 33);
        UnitStateTransfer.Save(_directory, [new UnitStateImage(1, "block.0", 9, chunked)]);
        string path = Path.Combine(_directory, UnitStateImage.FileNameOf("block.0"));
        Assert.Equal(chunked.ToArray(), File.ReadAllBytes(path));

        File.WriteAllBytes(path, UnitStateCodec.Encode(config, 1, "block.0", 9, s_parameters)); // as earlier versions wrote it
        var (image, source) = UnitStateTransfer.FileReader(_directory)("block.0");
        Assert.Equal(path, source);
        Assert.Equal(chunked.Sha256Hex(), image.Sha256Hex());
        Assert.Equal(9, UnitStateCodec.Decode(config, "block.0", image, source).OptimizerSteps);
    }

    [Fact]
    public void Bytes_copy_and_hash_across_chunk_boundaries()
    {
        var bytes = new ChunkedBytes([[1, 2, 3], [], [4], [5, 6, 7, 8]]);
        Assert.Equal(8, bytes.Length);
        var middle = new byte[5];
        bytes.CopyTo(2, middle);
        Assert.Equal(new byte[] { 3, 4, 5, 6, 7 }, middle);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new byte[] { 4, 5, 6, 7, 8 })), bytes.Sha256Hex(3));
        Assert.Equal(Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(new byte[] { 4, 5, 6, 7, 8 })), bytes.Xxh128Hex(3));
        Assert.Equal(Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash([])), bytes.Xxh128Hex(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => bytes.Xxh128Hex(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => bytes.CopyTo(6, new byte[3]));
    }
}
