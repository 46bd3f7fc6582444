using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// Unit images between the stage, its snapshot holders and the store. Invariant (any image size): an image goes
/// between grains as a header (<see cref="UnitImage.Image"/>, its first chunk of at most
/// <see cref="ChunkedBytes.DefaultChunkBytes"/>, and the count of the rest in <see cref="UnitImage.SeparateChunks"/>) and
/// one call per further chunk, so no message carries more than one chunk; held in memory, it is whole
/// (<see cref="UnitImage.MoreChunks"/>). Its checksums are always over the whole image (the manifest's SHA-256) or its
/// whole data section (the header's XXH3-128), never per chunk.
/// </summary>
internal static class UnitImages
{
    /// <summary>The whole image, for memory (no copy).</summary>
    public static UnitImage Whole(UnitStateImage image) => new(image.UnitIndex, image.UnitName, image.Image.Chunks.Count > 0 ? image.Image.Chunks[0] : [])
    {
        MoreChunks = [.. image.Image.Chunks.Skip(1)],
    };

    /// <summary>The bytes of a whole image (no copy).</summary>
    public static ChunkedBytes Bytes(UnitImage unit)
    {
        if (unit.SeparateChunks != 0)
            throw new InvalidOperationException($"Unit image '{unit.UnitName}' is a header: {unit.SeparateChunks} of its chunks were not fetched.");
        return new ChunkedBytes([unit.Image, .. unit.MoreChunksOrNone]);
    }

    /// <summary>What goes in a message: the first chunk, and how many follow by calls of their own.</summary>
    public static UnitImage Header(UnitImage whole) => whole.MoreChunksOrNone.Length == 0 ? whole
        : whole with { MoreChunks = [], SeparateChunks = whole.MoreChunksOrNone.Length + whole.SeparateChunks };

    /// <summary>Chunk <paramref name="index"/> (1 after <see cref="UnitImage.Image"/>) of unit <paramref name="unitIndex"/> among whole images; null when not there.</summary>
    public static byte[]? Chunk(IEnumerable<UnitImage>? units, int unitIndex, int index) =>
        units?.FirstOrDefault(u => u.UnitIndex == unitIndex) is { } unit && index >= 1 && index <= unit.MoreChunksOrNone.Length
            ? unit.MoreChunksOrNone[index - 1]
            : null;

    /// <summary>
    /// Sends whole images to a holder: every further chunk by a call of its own, then the headers. Once
    /// <paramref name="cancellation"/> is cancelled (the sender left the epoch) no further call starts, so at most the one
    /// in flight is still on its way.
    /// </summary>
    public static async Task SendAsync(ICheckpointShardGrain holder, SnapshotRecord record, int stage, IReadOnlyList<UnitImage> units, bool durable,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        foreach (var unit in units)
            for (int i = 0; i < unit.MoreChunksOrNone.Length; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                await holder.AcceptChunk(record.Epoch, record.Step, new UnitImageChunk(unit.UnitIndex, i + 1, unit.MoreChunksOrNone[i]));
            }
        cancellation.ThrowIfCancellationRequested();
        await holder.Accept(record.Epoch, record.Step, stage, [.. units.Select(Header)], durable, record.StepLoss);
    }

    /// <summary>
    /// Whole images from headers, fetching the chunks they count by calls of their own; null when
    /// <paramref name="headers"/> is null or a chunk is no longer held.
    /// </summary>
    public static async Task<IReadOnlyList<UnitImage>?> FetchAsync(IReadOnlyList<UnitImage>? headers, Func<int, int, Task<byte[]?>> fetchChunk)
    {
        ArgumentNullException.ThrowIfNull(fetchChunk);
        if (headers is null) return null;
        var whole = new List<UnitImage>(headers.Count);
        foreach (var header in headers)
        {
            if (header.SeparateChunks == 0)
            {
                whole.Add(header);
                continue;
            }
            var more = new List<byte[]>(header.MoreChunksOrNone);
            for (int i = header.MoreChunksOrNone.Length + 1; i <= header.MoreChunksOrNone.Length + header.SeparateChunks; i++)
            {
                if (await fetchChunk(header.UnitIndex, i) is not { } chunk) return null;
                more.Add(chunk);
            }
            whole.Add(header with { MoreChunks = [.. more], SeparateChunks = 0 });
        }
        return whole;
    }
}
