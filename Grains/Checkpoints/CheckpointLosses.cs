using System.Buffers.Binary;
using System.Security.Cryptography;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Kernels.Checkpoint;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// A checkpoint's step losses, kept in a file of its own shard set (<see cref="FileName"/>) rather than in its
/// manifest, so that a manifest — listed, sent to every stage on restore, shown by the console — stays O(1) in the
/// step count. The file goes with its checkpoint (deletes remove whole shard sets).
/// <para>
/// What a checkpoint writes is O(loss-chunk size) in the step count, not the whole history: the file holds the losses
/// since the last chunk the job sealed into its chunked loss log (<see cref="CheckpointLossSlice"/>, a durable log
/// retention never touches), and the manifest names the SHA-256 of the whole history. A restore rebuilds losses
/// 0 … From-1 from the job's loss log (in memory, else its chunk records) and checks the whole against that hash.
/// Loss files that hold the whole history (<see cref="LossLogRecord.From"/> 0, every file written before slices) and
/// old manifests that embed the history (<see cref="CheckpointManifest.LossHistory"/>) are still read.
/// </para>
/// </summary>
public static class CheckpointLosses
{
    /// <summary>The loss file's name in a shard set (never a unit's shard name: those end in their format).</summary>
    public const string FileName = "losses.f64";

    /// <summary>Writes the whole history 0 … step-1 into the shard set (a self-contained file); null when there are none.</summary>
    public static Task<LossLogRecord?> WriteAsync(ICheckpointStore store, string jobId, long epoch, long step, IReadOnlyList<double> losses,
        CancellationToken cancellationToken = default) =>
        WriteAsync(store, jobId, epoch, step, CheckpointLossSlice.Whole(losses), cancellationToken);

    /// <summary>
    /// Writes the slice's losses (From … step-1) into the shard set (<paramref name="step"/>, <paramref name="epoch"/>);
    /// null when the checkpoint has no losses (step 0).
    /// </summary>
    public static async Task<LossLogRecord?> WriteAsync(ICheckpointStore store, string jobId, long epoch, long step, CheckpointLossSlice losses,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(losses);
        if (losses.Step != step || losses.From < 0)
            throw new ArgumentException($"A checkpoint at step {step} needs losses up to step {step}, not {losses.From} … {losses.Step - 1}.", nameof(losses));
        if (step == 0) return null;
        if (losses.Losses.Count == 0)
            throw new ArgumentException($"A checkpoint at step {step} holds at least the loss of its step.", nameof(losses));
        byte[] content = Encode(losses.Losses);
        await store.WriteShardAsync(jobId, epoch, step, FileName, content, cancellationToken);
        var record = new LossLogRecord(FileName, step, Convert.ToHexStringLower(SHA256.HashData(content)));
        return losses.From == 0 ? record : record with { From = losses.From, HistorySha256 = losses.HistorySha256 };
    }

    /// <summary>
    /// Losses 0 … Step-1 of the checkpoint <paramref name="manifest"/> commits: from its loss file (checked against the
    /// manifest's hash and count), with losses 0 … From-1 from <paramref name="earlierLosses"/> (the job's loss log,
    /// asked for its first n losses; null when it cannot give them) checked with the file against the hash of the whole
    /// history; or, for a manifest of an earlier version, from its embedded history.
    /// <see cref="CheckpointCorruptException"/> when the file is missing or does not match, or the earlier losses are
    /// not to be had or do not match.
    /// </summary>
    public static async Task<double[]> ReadAsync(ICheckpointStore store, CheckpointManifest manifest,
        Func<long, Task<double[]?>>? earlierLosses = null, CancellationToken cancellationToken = default)
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
        if (log.From < 0 || log.From > manifest.Step || content.Length != (log.Count - log.From) * sizeof(double) || log.Count < manifest.Step)
            throw new CheckpointCorruptException(source, $"it holds {content.Length / sizeof(double)} losses from step {log.From}; the manifest says {log.Count} for step {manifest.Step}");
        if (log.From == 0)
            return [.. Decode(content).Take((int)manifest.Step)];

        // A slice: losses 0 … From-1 come from the job's loss log; the whole must hash to the manifest's history hash.
        double[]? earlier = earlierLosses is null ? null : await earlierLosses(log.From);
        if (earlier is null || earlier.Length != log.From)
            throw new CheckpointCorruptException(source, $"it holds losses from step {log.From} on; the job's loss log cannot give losses 0 … {log.From - 1}");
        double[] all = [.. earlier, .. Decode(content)];
        if (log.HistorySha256 is null || Convert.ToHexStringLower(SHA256.HashData(Encode(all))) != log.HistorySha256)
            throw new CheckpointCorruptException(source, $"the job's losses 0 … {log.From - 1} with this file do not hash to the manifest's history");
        return [.. all.Take((int)manifest.Step)];
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
