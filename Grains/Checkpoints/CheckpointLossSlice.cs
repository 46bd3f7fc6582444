using System.Security.Cryptography;

namespace Cluster.Grains.Checkpoints;

/// <summary>
/// What a checkpoint at step <see cref="Step"/> writes of the job's step losses: losses <see cref="From"/> … Step-1
/// (those since the last loss chunk the job sealed durably, so O(chunk size) in the step count, not the whole
/// history), and the SHA-256 of the whole history 0 … Step-1 against which a restore checks the losses it rebuilds.
/// </summary>
public sealed record CheckpointLossSlice(long From, IReadOnlyList<double> Losses, string HistorySha256)
{
    /// <summary>The checkpoint's step: every loss before it is named.</summary>
    public long Step => From + Losses.Count;

    /// <summary>The loss of the checkpoint's step (the last one), or null at step 0 or when the slice holds none.</summary>
    public double? StepLoss => Losses.Count > 0 ? Losses[^1] : null;

    /// <summary>A slice of the whole history (a self-contained loss file, as checkpoints wrote before slices existed).</summary>
    public static CheckpointLossSlice Whole(IReadOnlyList<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        return new CheckpointLossSlice(0, losses, Convert.ToHexStringLower(SHA256.HashData(CheckpointLosses.Encode(losses))));
    }
}
