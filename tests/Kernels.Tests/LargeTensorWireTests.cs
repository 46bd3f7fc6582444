using Cluster.Kernels.Wire;
using static TorchSharp.torch;

namespace Cluster.Kernels.Tests;

/// <summary>Runs alone: its test holds about 4 GiB at its peak, which the shared test machine should not see twice.</summary>
[CollectionDefinition(nameof(LargeMemory), DisableParallelization = true)]
public sealed class LargeMemory;

/// <summary>
/// A tensor just over 2 GiB (more than one .NET array holds; <c>checked((int)…)</c> overflowed before) goes to the wire
/// and back bit for bit. A byte tensor keeps the peak at two copies (≈ 4 GiB): the tensor and its wire chunks, then the
/// chunks and the tensor rebuilt from them.
/// </summary>
[Collection(nameof(LargeMemory))]
public sealed class LargeTensorWireTests
{
    private const long Columns = (1L << 30) + 8; // [2, 2^30 + 8] bytes = 2^31 + 16 bytes

    [Fact]
    public void Byte_tensor_just_over_2_GiB_round_trips_through_the_wire_in_chunks()
    {
        WireTensor wire;
        using (var generator = new Generator(2026))
        using (var original = randint(0, 256, [2, Columns], ScalarType.Byte, generator: generator))
        {
            wire = TensorWire.ToWire(original);
            Assert.Equal((1L << 31) + 16, wire.ByteLength);
            Assert.Equal(new[] { WireTensor.MaxChunkBytes, WireTensor.MaxChunkBytes, 16 }, wire.Chunks.Select(c => c.Length));
            AssertSameBytes(original, wire);
        }

        using (var back = TensorWire.FromWire(wire, CPU))
        {
            Assert.Equal(new[] { 2, Columns }, back.shape);
            Assert.Equal(ScalarType.Byte, back.dtype);
            AssertSameBytes(back, wire);
        }
        wire = null!;
        GC.Collect(); // give the 2 GiB of chunks back now, not when the next test allocates
    }

    /// <summary>Compares the tensor with the chunks a chunk at a time, so no third copy is made.</summary>
    private static void AssertSameBytes(Tensor tensor, WireTensor wire)
    {
        using var flat = tensor.reshape(-1);
        long start = 0;
        for (int i = 0; i < wire.Chunks.Count; i++)
        {
            var chunk = wire.Chunks[i];
            using var part = flat.narrow(0, start, chunk.Length);
            Assert.True(part.bytes.SequenceEqual(chunk), $"chunk {i} (bytes {start}…{start + chunk.Length}) differs from the tensor");
            start += chunk.Length;
        }
        Assert.Equal(flat.NumberOfElements, start);
    }
}
