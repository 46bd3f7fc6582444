using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Events;

internal sealed partial class JobEventLogGrain
{
    [LoggerMessage(1, LogLevel.Warning, "Job {JobId}: saving its event history failed ({Failures} in a row); it stays in memory and the save is retried")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string jobId, int failures);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId}: event history saved again after {Failures} failed attempt(s)")]
    private static partial void LogWriteRecovered(ILogger logger, string jobId, int failures);
}
