namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// A read-only, seekable stream over <see cref="ChunkedBytes"/>, or over a window of them: hands an image of any size,
/// or one part of it, to an upload API that takes a stream (its length is known up front, so a request body need not
/// be buffered or chunk-encoded). No bytes are copied until read.
/// </summary>
public sealed class ChunkedBytesStream : Stream
{
    private readonly ChunkedBytes _bytes;
    private readonly long _start;
    private readonly long _length;
    private long _position;

    /// <summary>A stream of all of <paramref name="bytes"/>.</summary>
    public ChunkedBytesStream(ChunkedBytes bytes)
        : this(bytes ?? throw new ArgumentNullException(nameof(bytes)), 0, bytes.Length)
    {
    }

    /// <summary>A stream of the <paramref name="length"/> bytes of <paramref name="bytes"/> from <paramref name="offset"/> (a multipart upload's part).</summary>
    public ChunkedBytesStream(ChunkedBytes bytes, long offset, long length)
    {
        _bytes = bytes ?? throw new ArgumentNullException(nameof(bytes));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset + length > bytes.Length)
            throw new ArgumentOutOfRangeException(nameof(length), $"Bytes [{offset}, {offset + length}) are past the end ({bytes.Length}).");
        _start = offset;
        _length = length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Max(0, Math.Min(buffer.Length, _length - _position));
        if (n == 0) return 0;
        _bytes.CopyTo(_start + _position, buffer[..n]);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException("The stream is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The stream is read-only.");
}
