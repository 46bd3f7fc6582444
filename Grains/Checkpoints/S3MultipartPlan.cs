namespace Cluster.Grains.Checkpoints;

/// <summary>
/// How <see cref="S3CheckpointStore"/> cuts an object into the parts of a multipart upload, within S3's limits: every
/// part but the last 5 MiB–5 GiB, at most 10,000 parts, at most 5 TiB in all (AWS S3's documented limits, which MinIO,
/// Ceph RGW and R2 share or exceed).
/// </summary>
internal static class S3MultipartPlan
{
    /// <summary>The smallest part S3 takes (except the last).</summary>
    public const long MinPartBytes = 5L << 20;

    /// <summary>The largest part, and the largest object one PutObject takes.</summary>
    public const long MaxPartBytes = 5L << 30;

    /// <summary>The most parts one upload may have.</summary>
    public const int MaxParts = 10_000;

    /// <summary>The largest object S3 holds.</summary>
    public const long MaxObjectBytes = 5L << 40;

    /// <summary>
    /// The parts of an object of <paramref name="length"/> bytes: <paramref name="partBytes"/> each (the last shorter),
    /// or larger — rounded up to whole MiB — when that many would be more than <see cref="MaxParts"/>.
    /// </summary>
    public static IReadOnlyList<S3Part> Cut(long length, long partBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (partBytes is < MinPartBytes or > MaxPartBytes)
            throw new ArgumentOutOfRangeException(nameof(partBytes), partBytes, $"A part is {MinPartBytes} to {MaxPartBytes} bytes.");
        if (length > MaxObjectBytes)
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"S3 holds objects of at most 5 TiB ({MaxObjectBytes} bytes); this shard is {length} bytes. Cut the model into more stages or units.");
        long fewest = (length + MaxParts - 1) / MaxParts;
        long size = Math.Max(partBytes, (fewest + (1L << 20) - 1) >> 20 << 20);
        var parts = new List<S3Part>((int)((length + size - 1) / size));
        for (long offset = 0; offset < length; offset += size)
            parts.Add(new S3Part(parts.Count + 1, offset, Math.Min(size, length - offset)));
        return parts;
    }
}
