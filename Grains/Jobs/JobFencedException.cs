namespace Cluster.Grains.Jobs;

/// <summary>
/// This activation of a job lost its ownership: the stored state belongs to a newer epoch (another activation took
/// the job over after a false death declaration), or to another activation that claimed the same epoch first
/// (<paramref name="sameEpoch"/>), or the job was deleted meanwhile (<paramref name="deleted"/>: its tombstone is stored).
/// It stops without writing, publishing or touching stages.
/// </summary>
internal sealed class JobFencedException(string jobId, long epoch, long storedEpoch, bool sameEpoch = false, bool deleted = false)
    : Exception(deleted
        ? $"Job {jobId}: deleted while this activation (epoch {epoch}) still ran; it stops without writing the job back."
        : sameEpoch
        ? $"Job {jobId}: another activation claimed epoch {epoch} first; this one stops."
        : $"Job {jobId}: this activation (epoch {epoch}) was superseded by one in epoch {storedEpoch}; it stops.")
{
    public long StoredEpoch { get; } = storedEpoch;
}
