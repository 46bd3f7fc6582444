using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

/// <summary>Log messages of the operator surface (ids from 100, apart from the driver's).</summary>
internal sealed partial class TrainingJobGrain
{
    [LoggerMessage(100, LogLevel.Information, "Job {JobId} updated by an operator: {Changes}")]
    private static partial void LogUpdated(ILogger logger, string jobId, string changes);

    [LoggerMessage(101, LogLevel.Information, "Job {JobId} deleted by an operator (purge: {Purge})")]
    private static partial void LogDeleted(ILogger logger, string jobId, bool purge);
}
