namespace Cluster.Grains.Jobs;

/// <summary>
/// Storage (checkpoint store or grain storage) could not be used, or holds nothing the job can safely resume from.
/// Waiting can fix it: the job waits in <c>WaitingForStorage</c> and retries; it never fails the job.
/// </summary>
internal sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
