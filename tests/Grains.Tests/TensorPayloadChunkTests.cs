using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Stages;
using Cluster.Kernels.Wire;

namespace Cluster.Grains.Tests;

/// <summary>A wire tensor in several chunks (over 1 GiB in production) becomes a grain payload and back, chunk for chunk, without a copy.</summary>
public sealed class TensorPayloadChunkTests
{
    [Fact]
    public void Chunked_wire_tensor_crosses_as_a_payload_and_back_with_the_same_arrays()
    {
        byte[][] chunks = [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16], [17, 18, 19, 20]];
        var wire = WireTensor.FromChunks(WireDType.Float32, [5], chunks);

        var payload = wire.ToPayload();
        Assert.Same(chunks[0], payload.Data);
        Assert.Equal(2, payload.MoreChunks.Length);

        var back = payload.ToWire();
        Assert.Equal(WireDType.Float32, back.DType);
        Assert.Equal(new long[] { 5 }, back.Shape);
        Assert.Equal(3, back.Chunks.Count);
        for (int i = 0; i < chunks.Length; i++) Assert.Same(chunks[i], back.Chunks[i]);
    }

    [Fact]
    public void One_chunk_payload_has_no_more_chunks_and_a_payload_without_them_reads_as_one()
    {
        var single = new WireTensor(WireDType.UInt8, [3], [1, 2, 3]).ToPayload();
        Assert.Empty(single.MoreChunks);
        Assert.Equal(new byte[] { 1, 2, 3 }, single.ToWire().Data);

        var old = new TensorPayload(8, [3], [1, 2, 3]) { MoreChunks = null! }; // as written before Id 3 existed
        Assert.Equal(new byte[] { 1, 2, 3 }, old.ToWire().Data);
    }

    [Fact]
    public void Payload_whose_chunks_do_not_add_up_is_refused()
    {
        var payload = new TensorPayload((byte)WireDType.Float32, [3], new byte[8]) { MoreChunks = [new byte[8]] };
        Assert.Throws<ArgumentException>(() => payload.ToWire());
    }
}
