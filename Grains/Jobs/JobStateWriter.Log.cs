using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

internal sealed partial class JobStateWriter
{
    [LoggerMessage(1, LogLevel.Warning, "Job {JobId}: saving job state failed ({Failures} in a row); training goes on and the save is retried")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string jobId, int failures);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId}: job state saved again after {Failures} failed attempt(s)")]
    private static partial void LogWriteRecovered(ILogger logger, string jobId, int failures);

    [LoggerMessage(3, LogLevel.Information, "Job {JobId}: stored state changed under this activation (epoch {Epoch}, step {Step} stored); reconciled, writing again")]
    private static partial void LogReconciled(ILogger logger, string jobId, long epoch, long step);

    [LoggerMessage(4, LogLevel.Warning, "Job {JobId}: {Reason}")]
    private static partial void LogFenced(ILogger logger, string jobId, string reason);

    [LoggerMessage(5, LogLevel.Debug, "Job {JobId}: stored state could not be re-read to confirm ownership; this activation goes on as the owner")]
    private static partial void LogOwnershipUnknown(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(6, LogLevel.Warning, "Job {JobId}: deleted, but its loss chunk {Chunk} could not be removed; no state counts it, and a job submitted again under this id writes over it")]
    private static partial void LogChunkLeft(ILogger logger, Exception exception, string jobId, int chunk);
}
