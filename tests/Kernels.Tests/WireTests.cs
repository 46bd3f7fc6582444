using Cluster.Kernels.Wire;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>Tensors cross the wire as dtype + shape + contiguous little-endian bytes, bit for bit.</summary>
public sealed class WireTests
{
    private static byte[] Bytes(Tensor t)
    {
        using var contiguous = t.contiguous();
        return contiguous.bytes.ToArray();
    }

    [Fact]
    public void Float32_tensor_round_trips_bit_exactly_including_special_values()
    {
        using var scope = NewDisposeScope();
        float[] values = [0f, -0f, 1.5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -3.4e38f, 1e-40f, 42f, -7.25f, 0.1f];
        var original = tensor(values, [3, 4]);

        var wire = TensorWire.ToWire(original);
        Assert.Equal(WireDType.Float32, wire.DType);
        Assert.Equal(new long[] { 3, 4 }, wire.Shape);
        Assert.Equal(12, wire.ElementCount);
        Assert.Equal(Bytes(original), wire.Data);

        var back = TensorWire.FromWire(wire, CPU);
        Assert.Equal(ScalarType.Float32, back.dtype);
        Assert.Equal(new long[] { 3, 4 }, back.shape);
        Assert.Equal(
            values.Select(BitConverter.SingleToInt32Bits),
            back.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Int64_tensor_round_trips_exactly()
    {
        using var scope = NewDisposeScope();
        long[] values = [long.MinValue, -1, 0, 1, 255, 256, 1L << 40, long.MaxValue];
        var original = tensor(values, [2, 2, 2]);

        var wire = TensorWire.ToWire(original);
        Assert.Equal(WireDType.Int64, wire.DType);
        Assert.Equal(new long[] { 2, 2, 2 }, wire.Shape);
        Assert.Equal(64, wire.Data.Length);

        var back = TensorWire.FromWire(wire, CPU);
        Assert.Equal(ScalarType.Int64, back.dtype);
        Assert.Equal(new long[] { 2, 2, 2 }, back.shape);
        Assert.Equal(values, back.data<long>().ToArray());
    }

    [Fact]
    public void Transposed_non_contiguous_tensor_goes_out_in_logical_row_major_order()
    {
        using var scope = NewDisposeScope();
        using var six = 6.ToScalar();
        var matrix = arange(six, ScalarType.Float32).reshape(2, 3); // [[0, 1, 2], [3, 4, 5]]
        var transposed = matrix.t();                               // [[0, 3], [1, 4], [2, 5]], a strided view
        Assert.False(transposed.is_contiguous());

        var wire = TensorWire.ToWire(transposed);
        Assert.Equal(new long[] { 3, 2 }, wire.Shape);
        var expected = new float[] { 0, 3, 1, 4, 2, 5 }.SelectMany(BitConverter.GetBytes).ToArray();
        Assert.Equal(expected, wire.Data);

        var back = TensorWire.FromWire(wire, CPU);
        Assert.True(back.is_contiguous());
        Assert.True(back.eq(transposed).all().item<bool>());
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, back.data<float>().ToArray());
    }

    [Fact]
    public void Tensor_that_requires_grad_goes_out_detached()
    {
        using var scope = NewDisposeScope();
        var leaf = tensor(new float[] { 1, 2 }).requires_grad_(true);
        using var two = 2.ToScalar();
        var doubled = leaf.mul(two);
        var wire = TensorWire.ToWire(doubled);
        Assert.Equal(new float[] { 2, 4 }.SelectMany(BitConverter.GetBytes).ToArray(), wire.Data);
        Assert.False(TensorWire.FromWire(wire, CPU).requires_grad);
    }

    [Fact]
    public void Token_ids_become_an_int64_batch()
    {
        var wire = TensorWire.FromTokens([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(WireDType.Int64, wire.DType);
        Assert.Equal(new long[] { 2, 3 }, wire.Shape);
        Assert.Throws<ArgumentException>(() => TensorWire.FromTokens([1, 2, 3], 2, 3));
    }

    [Theory]
    [InlineData(WireDType.Float32, new long[] { 2, 3 }, 23, 24)]
    [InlineData(WireDType.Int64, new long[] { 4 }, 33, 32)]
    [InlineData(WireDType.UInt16, new long[] { }, 0, 2)]
    [InlineData(WireDType.Float16, new long[] { 0, 7 }, 2, 0)]
    public void Wire_tensor_rejects_data_whose_length_does_not_match_dtype_and_shape(WireDType dtype, long[] shape, int actual, int needed)
    {
        var e = Assert.Throws<ArgumentException>(() => new WireTensor(dtype, shape, new byte[actual]));
        Assert.Equal("data", e.ParamName);
        Assert.Contains($"is {actual} bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains($"needs {needed} bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains(dtype.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains($"[{string.Join(", ", shape)}]", e.Message, StringComparison.Ordinal);

        // The matching length is accepted.
        Assert.Equal(needed, new WireTensor(dtype, shape, new byte[needed]).Data.Length);
    }

    [Fact]
    public void Wire_tensor_rejects_a_negative_dimension()
    {
        var e = Assert.Throws<ArgumentException>(() => new WireTensor(WireDType.Float32, [2, -1], []));
        Assert.Contains("negative dimension", e.Message, StringComparison.Ordinal);
    }
}
