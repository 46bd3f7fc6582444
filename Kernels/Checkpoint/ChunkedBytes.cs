using System.IO.Hashing;
using System.Security.Cryptography;
using Cluster.Kernels.Wire;

namespace Cluster.Kernels.Checkpoint;

/// <summary>
/// Bytes held as arrays read in order: a unit's safetensors image, which may be longer than one .NET array holds
/// (about 2 GiB). Immutable by convention: nobody writes to the arrays once the value is made.
/// </summary>
/// <remarks>
/// An image is cut into chunks of at most <see cref="DefaultChunkBytes"/> (64 MiB): under Orleans' default message
/// limit (<c>MaxMessageBodySize</c>, 100 MiB), so each chunk crosses silos as one grain call with default settings,
/// and far under the 1 GiB this project allows any one array. An image up to that size is one chunk, as before.
/// </remarks>
public sealed class ChunkedBytes
{
    /// <summary>The chunk size images are cut into (64 MiB).</summary>
    public const int DefaultChunkBytes = 64 << 20;

    public ChunkedBytes(IReadOnlyList<byte[]> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        long length = 0;
        foreach (var chunk in chunks)
            length = checked(length + (chunk ?? throw new ArgumentException("A chunk is null.", nameof(chunks))).LongLength);
        Chunks = chunks;
        Length = length;
    }

    /// <summary>One array as one chunk (no copy).</summary>
    public static ChunkedBytes Of(byte[] bytes) => new([bytes ?? throw new ArgumentNullException(nameof(bytes))]);

    /// <summary>Uninitialised chunks for <paramref name="length"/> bytes, every one but the last <paramref name="chunkBytes"/> long.</summary>
    public static byte[][] Allocate(long length, int chunkBytes = DefaultChunkBytes) => WireChunks.Allocate(length, 1, chunkBytes);

    public IReadOnlyList<byte[]> Chunks { get; }

    /// <summary>Total bytes: may exceed what one array holds.</summary>
    public long Length { get; }

    /// <summary>The bytes as one array: the chunk itself when there is one (no copy), else a copy; a clear error when longer than an array holds.</summary>
    public byte[] ToArray()
    {
        if (Chunks.Count == 1) return Chunks[0];
        if (Length > Array.MaxLength)
            throw new InvalidOperationException($"{Length} bytes do not fit in one array (at most {Array.MaxLength}): read them chunk by chunk.");
        var all = GC.AllocateUninitializedArray<byte>((int)Length);
        CopyTo(0, all);
        return all;
    }

    /// <summary>Copies <c>destination.Length</c> bytes starting at <paramref name="offset"/>, across chunk boundaries.</summary>
    public void CopyTo(long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset + destination.Length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes [{offset}, {offset + destination.Length}) are past the end ({Length}).");
        foreach (var chunk in Chunks)
        {
            if (destination.IsEmpty) return;
            if (offset >= chunk.LongLength)
            {
                offset -= chunk.LongLength;
                continue;
            }
            int take = (int)Math.Min(chunk.LongLength - offset, destination.Length);
            chunk.AsSpan((int)offset, take).CopyTo(destination);
            destination = destination[take..];
            offset = 0;
        }
    }

    /// <summary>The SHA-256 (lower-case hex) of the bytes from <paramref name="offset"/> to the end, hashed chunk by chunk.</summary>
    public string Sha256Hex(long offset = 0)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var segment in Segments(offset))
            hash.AppendData(segment.Span);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The XXH3-128 (seed 0, canonical big-endian lower-case hex, as Python's <c>xxhash.xxh3_128_hexdigest</c>) of the
    /// bytes from <paramref name="offset"/> to the end, hashed chunk by chunk. A checksum against accidental damage,
    /// several times faster than SHA-256; not a defence against a forger.
    /// </summary>
    public string Xxh128Hex(long offset = 0)
    {
        var hash = new XxHash128();
        foreach (var segment in Segments(offset))
            hash.Append(segment.Span);
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    /// <summary>The bytes from <paramref name="offset"/> to the end, one piece per chunk (empty ones skipped).</summary>
    private IEnumerable<ReadOnlyMemory<byte>> Segments(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        foreach (var chunk in Chunks)
        {
            if (offset >= chunk.LongLength)
            {
                offset -= chunk.LongLength;
                continue;
            }
            yield return chunk.AsMemory((int)offset);
            offset = 0;
        }
    }

    /// <summary>Writes every chunk, in order.</summary>
    public async Task WriteToAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        foreach (var chunk in Chunks)
            await stream.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes into chunks of <paramref name="chunkBytes"/>; fails on a short stream.</summary>
    public static ChunkedBytes Read(Stream stream, long length, int chunkBytes = DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var chunks = Allocate(length, chunkBytes);
        foreach (var chunk in chunks)
            stream.ReadExactly(chunk);
        return new ChunkedBytes(chunks);
    }

    /// <summary>As <see cref="Read"/>, asynchronously.</summary>
    public static async Task<ChunkedBytes> ReadAsync(Stream stream, long length, int chunkBytes = DefaultChunkBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var chunks = Allocate(length, chunkBytes);
        foreach (var chunk in chunks)
            await stream.ReadExactlyAsync(chunk, cancellationToken).ConfigureAwait(false);
        return new ChunkedBytes(chunks);
    }
}
