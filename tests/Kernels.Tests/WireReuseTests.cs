using Cluster.Kernels.Wire;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>
/// Snapshot copies reuse their host buffers (issue 16): a tensor copied into a buffer of its dtype and shape overwrites
/// that buffer's arrays, bit for bit and in chunks too; any other buffer is left alone and new arrays are taken.
/// </summary>
public sealed class WireReuseTests
{
    private static byte[] Bytes(Tensor t)
    {
        using var contiguous = t.contiguous();
        return contiguous.bytes.ToArray();
    }

    [Theory]
    [InlineData(WireTensor.MaxChunkBytes)]
    [InlineData(12)] // in chunks
    public void A_buffer_of_the_same_dtype_and_shape_is_overwritten_in_place(int maxChunkBytes)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var first = randn([5, 7], generator: generator);
        var second = randn([5, 7], generator: generator);

        var buffer = TensorWire.ToWire(first, null, maxChunkBytes);
        var arrays = buffer.Chunks.ToArray();
        var again = TensorWire.ToWire(second, buffer, maxChunkBytes);

        Assert.Same(buffer, again);
        Assert.Equal(arrays, again.Chunks); // the same arrays, not copies
        Assert.Equal(Bytes(second), again.Chunks.SelectMany(c => c).ToArray());
    }

    [Fact]
    public void A_buffer_of_another_shape_or_dtype_is_not_touched()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(12);
        var original = randn([5, 7], generator: generator);
        var buffer = TensorWire.ToWire(original);
        byte[] before = [.. buffer.Data];

        var reshaped = TensorWire.ToWire(randn([7, 5], generator: generator), buffer);
        var widened = TensorWire.ToWire(randn([5, 7], generator: generator).to(ScalarType.Float64), buffer);

        Assert.NotSame(buffer, reshaped);
        Assert.NotSame(buffer, widened);
        Assert.Equal(before, buffer.Data);
        Assert.Equal(new long[] { 7, 5 }, reshaped.Shape);
        Assert.Equal(WireDType.Float64, widened.DType);
    }
}
