namespace Cluster.Grains.Jobs;

/// <summary>
/// This activation of a job lost its ownership: the stored state belongs to a newer epoch (another activation took
/// the job over after a false death declaration). It stops without writing, publishing or touching stages.
/// </summary>
internal sealed class JobFencedException(string jobId, long epoch, long storedEpoch)
    : Exception($"Job {jobId}: this activation (epoch {epoch}) was superseded by one in epoch {storedEpoch}; it stops.")
{
    public long StoredEpoch { get; } = storedEpoch;
}
