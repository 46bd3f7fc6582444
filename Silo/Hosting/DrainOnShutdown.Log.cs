using Microsoft.Extensions.Logging;

namespace Cluster.Silo.Hosting;

internal sealed partial class DrainOnShutdown
{
    [LoggerMessage(1, LogLevel.Information, "Shutting down: draining nodes {Nodes}")]
    private static partial void LogDraining(ILogger logger, string nodes);

    [LoggerMessage(2, LogLevel.Information, "Nodes drained in {Seconds:F1} s")]
    private static partial void LogDrained(ILogger logger, double seconds);

    [LoggerMessage(3, LogLevel.Warning, "Stages still on this silo's nodes, {Parcels} moving grains' copies not yet taken, or a job that ran here not yet stepping elsewhere, after {Seconds:F0} s (Shutdown:DrainTimeout); leaving anyway, their jobs restore from other copies or checkpoints")]
    private static partial void LogDrainTimedOut(ILogger logger, double seconds, int parcels);

    [LoggerMessage(4, LogLevel.Warning, "Could not drain this silo's nodes before leaving; their jobs recover as after a failure")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "Waiting for {Parcels} grains moving off this silo to take the copies they leave on it")]
    private static partial void LogWaitingForParcels(ILogger logger, int parcels);

    [LoggerMessage(6, LogLevel.Information, "The grains moving off this silo took their copies in {Seconds:F1} s")]
    private static partial void LogParcelsTaken(ILogger logger, double seconds);

    [LoggerMessage(7, LogLevel.Information, "Waiting for jobs {Jobs}, which ran stages here, to complete a step elsewhere")]
    private static partial void LogWaitingForJobs(ILogger logger, string jobs);

    [LoggerMessage(8, LogLevel.Information, "The jobs that ran stages here completed a step elsewhere in {Seconds:F1} s; leaving the cluster")]
    private static partial void LogJobsStepped(ILogger logger, double seconds);

    [LoggerMessage(9, LogLevel.Information, "Job {JobId} did not answer while this silo left (asked again): {Reason}")]
    private static partial void LogJobNotAnswering(ILogger logger, string jobId, string reason);

    [LoggerMessage(10, LogLevel.Warning, "The scheduler refused to drain node {NodeId} for this silo's leave ({Reason}); an older scheduler? Drained as an operator would: uncordon the node once this silo is back")]
    private static partial void LogDrainLeavingRefused(ILogger logger, string nodeId, string reason);

    [LoggerMessage(11, LogLevel.Warning, "Jobs {Jobs} ran stages here but did not answer their status {Polls} times; leaving without waiting for them to step elsewhere")]
    private static partial void LogJobsNotWaitedFor(ILogger logger, string jobs, int polls);
}
