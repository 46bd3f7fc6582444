using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Hosting;

internal sealed partial class CoordinatorHandOverOnShutdown
{
    [LoggerMessage(1, LogLevel.Information, "Shutting down: {HandedOver} of {Coordinators} job coordinator(s) on this silo handed their job over in {Seconds:F1} s")]
    private static partial void LogHandedOver(ILogger logger, int handedOver, int coordinators, double seconds);

    [LoggerMessage(2, LogLevel.Warning, "Shutting down: job {JobId}'s coordinator did not hand the job over ({Reason}); its next activation recovers it as after a loss")]
    private static partial void LogNotHandedOver(ILogger logger, string jobId, string reason);
}
