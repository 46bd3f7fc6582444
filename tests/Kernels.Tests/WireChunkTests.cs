using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Wire;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>
/// A tensor larger than one chunk crosses the wire in chunks of whole elements, in order, bit for bit; checked here with
/// a lowered chunk limit so that small tensors take the same path as tensors over 2 GiB.
/// </summary>
public sealed class WireChunkTests
{
    private static byte[] Bytes(Tensor t)
    {
        using var contiguous = t.contiguous();
        return contiguous.bytes.ToArray();
    }

    [Theory]
    [InlineData(12, 12, 12)]  // 3 floats a chunk: 140 bytes → 11 × 12 + 8
    [InlineData(10, 18, 8)]   // a limit that is not a whole number of elements rounds down to 2 floats: 17 × 8 + 4
    [InlineData(4, 35, 4)]    // one float a chunk
    [InlineData(140, 1, 140)] // exactly one chunk
    public void Float32_tensor_in_chunks_round_trips_bit_exactly(int maxChunkBytes, int expectedChunks, int firstChunkBytes)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var original = randn([5, 7], generator: generator);

        var wire = TensorWire.ToWire(original, maxChunkBytes);

        Assert.Equal(expectedChunks, wire.Chunks.Count);
        Assert.Equal(firstChunkBytes, wire.Chunks[0].Length);
        Assert.All(wire.Chunks, c => Assert.InRange(c.Length, 4, maxChunkBytes));
        Assert.Equal(140, wire.ByteLength);
        Assert.Equal(Bytes(original), wire.Chunks.SelectMany(c => c).ToArray());

        var back = TensorWire.FromWire(wire, CPU);
        Assert.Equal(new long[] { 5, 7 }, back.shape);
        Assert.Equal(Bytes(original), Bytes(back));
    }

    [Fact]
    public void Non_contiguous_tensor_goes_out_in_row_major_order_across_chunks()
    {
        using var scope = NewDisposeScope();
        using var twelve = 12.ToScalar();
        var transposed = arange(twelve, ScalarType.Int64).reshape(3, 4).t(); // [4, 3], strided

        var wire = TensorWire.ToWire(transposed, maxChunkBytes: 16);

        Assert.Equal(6, wire.Chunks.Count);
        Assert.Equal(new long[] { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 },
            wire.Chunks.SelectMany(c => c.Chunk(8).Select(b => BitConverter.ToInt64(b))).ToArray());
        Assert.True(TensorWire.FromWire(wire, CPU).eq(transposed).all().item<bool>());
    }

    [Fact]
    public void Data_of_a_chunked_tensor_is_refused_rather_than_cut_short()
    {
        var wire = WireTensor.FromChunks(WireDType.UInt8, [3], [[1], [2, 3]]);
        Assert.Equal(3, wire.ByteLength);
        var e = Assert.Throws<InvalidOperationException>(() => wire.Data);
        Assert.Contains("2 chunks", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chunks_that_do_not_add_up_to_dtype_and_shape_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => WireTensor.FromChunks(WireDType.Float32, [2], [new byte[4], new byte[3]]));
        Assert.Equal("chunks", e.ParamName);
        Assert.Contains("is 7 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chunk_that_splits_an_element_is_refused_on_the_way_in()
    {
        var wire = WireTensor.FromChunks(WireDType.Float32, [2], [new byte[6], new byte[2]]);
        var e = Assert.Throws<ArgumentException>(() => TensorWire.FromWire(wire, CPU));
        Assert.Contains("splits an element", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chunked_tensors_go_into_a_safetensors_image_and_come_back_in_order()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var a = randn([6, 5], generator: generator);
        var b = randn([9], generator: generator);
        var tensors = new List<KeyValuePair<string, WireTensor>>
        {
            new("a", TensorWire.ToWire(a, maxChunkBytes: 8)),
            new("b", TensorWire.ToWire(b, maxChunkBytes: 12)),
        };
        Assert.Equal(15, tensors[0].Value.Chunks.Count);

        var image = SafeTensors.Serialize(tensors);
        var content = SafeTensors.Parse(image, "memory");

        Assert.Equal(Bytes(a), content.Get("a").Data);
        Assert.Equal(Bytes(b), content.Get("b").Data);
        // The same tensors held in one chunk each make the same file, byte for byte.
        Assert.Equal(image, SafeTensors.Serialize([new("a", TensorWire.ToWire(a)), new("b", TensorWire.ToWire(b))]));
    }
}
