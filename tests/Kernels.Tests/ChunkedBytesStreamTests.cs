using Cluster.Kernels.Checkpoint;

namespace Cluster.Kernels.Tests;

/// <summary>A window of chunked bytes reads exactly its bytes, across chunk boundaries, and rewinds (an upload's retry).</summary>
public sealed class ChunkedBytesStreamTests
{
    private static ChunkedBytes Numbered(int length, int chunkBytes)
    {
        var chunks = ChunkedBytes.Allocate(length, chunkBytes);
        int i = 0;
        foreach (var chunk in chunks)
            for (int j = 0; j < chunk.Length; j++) chunk[j] = (byte)(i++ * 7);
        return new ChunkedBytes(chunks);
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(3, 10)]
    [InlineData(9, 33)]
    [InlineData(95, 5)]
    [InlineData(40, 0)]
    public void A_window_reads_its_bytes_across_chunks_and_again_after_a_rewind(int offset, int length)
    {
        var bytes = Numbered(100, chunkBytes: 7);
        byte[] expected = bytes.ToArray()[offset..(offset + length)];
        using var window = new ChunkedBytesStream(bytes, offset, length);
        Assert.Equal(length, window.Length);

        var first = new MemoryStream();
        window.CopyTo(first, bufferSize: 5);
        Assert.Equal(expected, first.ToArray());

        window.Position = 0; // a retried request reads its body again
        var second = new MemoryStream();
        window.CopyTo(second);
        Assert.Equal(expected, second.ToArray());
        Assert.Equal(0, window.Read(new byte[4]));
    }

    [Fact]
    public void A_window_past_the_end_is_refused()
    {
        var bytes = Numbered(10, chunkBytes: 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkedBytesStream(bytes, 6, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkedBytesStream(bytes, -1, 2));
    }
}
