using System.Buffers.Binary;
using System.Security.Cryptography;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A checkpoint's step losses, kept in a file of its own shard set (<see cref="FileName"/>) rather than in its
/// manifest, so that a manifest — listed, sent to every stage on restore, shown by the console — stays O(1) in the
/// step count. The file goes with its checkpoint (deletes remove whole shard sets). Old manifests that embed the
/// history (<see cref="CheckpointManifest.LossHistory"/>) are still read.
/// </summary>
public static class CheckpointLosses
{
    /// <summary>The loss file's name in a shard set (never a unit's shard name: those end in their format).</summary>
    public const string FileName = "losses.f64";

    /// <summary>Writes losses 0 … step-1 into the shard set (<paramref name="step"/>, <paramref name="epoch"/>); null when there are none.</summary>
    public static async Task<LossLogRecord?> WriteAsync(ICheckpointStore store, string jobId, long epoch, long step, IReadOnlyList<double> losses,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(losses);
        if (losses.Count != step)
            throw new ArgumentException($"A checkpoint at step {step} needs {step} step losses, not {losses.Count}.", nameof(losses));
        if (losses.Count == 0) return null;
        byte[] content = Encode(losses);
        await store.WriteShardAsync(jobId, epoch, step, FileName, content, cancellationToken);
        return new LossLogRecord(FileName, losses.Count, Convert.ToHexStringLower(SHA256.HashData(content)));
    }

    /// <summary>
    /// Losses 0 … Step-1 of the checkpoint <paramref name="manifest"/> commits, from its loss file (checked against the
    /// manifest's hash and count) or, for a manifest of an earlier version, from its embedded history.
    /// <see cref="CheckpointCorruptException"/> when the file is missing or does not match.
    /// </summary>
    public static async Task<double[]> ReadAsync(ICheckpointStore store, CheckpointManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.LossLog is not { } log)
            return manifest.LossHistory.Count >= manifest.Step
                ? [.. manifest.LossHistory.Take((int)manifest.Step)]
                : throw new CheckpointCorruptException($"{manifest.JobId} step {manifest.Step}", $"the manifest names no loss file and embeds {manifest.LossHistory.Count} of its {manifest.Step} step losses");
        byte[] content = await store.ReadShardAsync(manifest, log.Name, cancellationToken);
        string source = $"{manifest.JobId} step {manifest.Step} epoch {manifest.Epoch}/{log.Name}";
        if (Convert.ToHexStringLower(SHA256.HashData(content)) != log.Sha256)
            throw new CheckpointCorruptException(source, "its SHA-256 differs from the manifest's");
        if (content.Length != log.Count * sizeof(double) || log.Count < manifest.Step)
            throw new CheckpointCorruptException(source, $"it holds {content.Length / sizeof(double)} losses; the manifest says {log.Count} for step {manifest.Step}");
        return [.. Decode(content).Take((int)manifest.Step)];
    }

    public static byte[] Encode(IReadOnlyList<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        byte[] content = new byte[losses.Count * sizeof(double)];
        for (int i = 0; i < losses.Count; i++)
            BinaryPrimitives.WriteInt64LittleEndian(content.AsSpan(i * sizeof(double)), BitConverter.DoubleToInt64Bits(losses[i]));
        return content;
    }

    public static double[] Decode(ReadOnlySpan<byte> content)
    {
        double[] losses = new double[content.Length / sizeof(double)];
        for (int i = 0; i < losses.Length; i++)
            losses[i] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(content[(i * sizeof(double))..]));
        return losses;
    }
}
