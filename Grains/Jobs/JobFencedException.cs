namespace Cluster.Grains.Jobs;

/// <summary>
/// This activation of a job lost its ownership: the stored state belongs to a newer epoch (another activation took
/// the job over after a false death declaration), or to another activation that claimed the same epoch first
/// (<paramref name="sameEpoch"/>). It stops without writing, publishing or touching stages.
/// </summary>
internal sealed class JobFencedException(string jobId, long epoch, long storedEpoch, bool sameEpoch = false)
    : Exception(sameEpoch
        ? $"Job {jobId}: another activation claimed epoch {epoch} first; this one stops."
        : $"Job {jobId}: this activation (epoch {epoch}) was superseded by one in epoch {storedEpoch}; it stops.")
{
    public long StoredEpoch { get; } = storedEpoch;
}
