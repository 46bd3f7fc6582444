using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Scheduling;

internal sealed partial class SchedulerGrain
{
    [LoggerMessage(1, LogLevel.Information, "Node {NodeId} registered from silo {Silo} ({Gigaflops} GFLOP/s)")]
    private static partial void LogRegistered(ILogger logger, string nodeId, string silo, double gigaflops);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId} placed: {Placement}")]
    private static partial void LogPlaced(ILogger logger, string jobId, string placement);

    [LoggerMessage(4, LogLevel.Warning, "Node {NodeId} lost: {Reason}")]
    private static partial void LogNodeLost(ILogger logger, string nodeId, string reason);

    [LoggerMessage(5, LogLevel.Debug, "Could not tell job {JobId} about a lost node")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(6, LogLevel.Information, "Node {NodeId} {Action} by an operator")]
    private static partial void LogOperator(ILogger logger, string action, string nodeId);

    [LoggerMessage(7, LogLevel.Warning, "Node {NodeId} flagged as a straggler by job {JobId}: {Reason}")]
    private static partial void LogStraggler(ILogger logger, string nodeId, string jobId, string reason);

    [LoggerMessage(8, LogLevel.Warning, "Preempting job {JobId} for job {For}")]
    private static partial void LogPreempting(ILogger logger, string jobId, string @for);

    [LoggerMessage(10, LogLevel.Information, "Asking job {JobId} to shrink to {Replicas} replica(s) for job {For}")]
    private static partial void LogShrinking(ILogger logger, string jobId, int replicas, string @for);

    [LoggerMessage(9, LogLevel.Information, "Quota of team {Team} set to {MaxNodes} node(s)")]
    private static partial void LogQuota(ILogger logger, string team, string maxNodes);

    [LoggerMessage(11, LogLevel.Warning, "Node {NodeId} reported unreachable by job {JobId} ({Reason}): no new stages until it heartbeats again")]
    private static partial void LogUnreachable(ILogger logger, string nodeId, string jobId, string reason);

    [LoggerMessage(12, LogLevel.Information, "Node {NodeId} heartbeated {Seconds:F2} s after it was reported unreachable: placeable again")]
    private static partial void LogReachableAgain(ILogger logger, string nodeId, double seconds);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId} could not be placed ({Refusal}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string jobId, Cluster.Grains.Interfaces.Scheduling.PlacementRefusal refusal, string? reason);

    [LoggerMessage(13, LogLevel.Warning, "Job {JobId} was asked to {What} for job {For} {Seconds:F1} s ago and has not: the scheduler makes room elsewhere")]
    private static partial void LogReleaseOverdue(ILogger logger, string jobId, string what, string @for, double seconds);

    [LoggerMessage(14, LogLevel.Information, "Table rebuilt from {Jobs} job(s) in {Seconds:F2} s: {Adopted} placement(s) adopted, {Conflicts} conflict(s), {Silent} job(s) did not answer")]
    private static partial void LogRebuilt(ILogger logger, int jobs, double seconds, int adopted, int conflicts, int silent);

    [LoggerMessage(15, LogLevel.Warning, "Placement reconciled: {Message}")]
    private static partial void LogReconciled(ILogger logger, string message);

    [LoggerMessage(16, LogLevel.Warning, "Could not ask job {JobId} for its placement (attempt {Attempt})")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, string jobId, int attempt);

    [LoggerMessage(17, LogLevel.Warning, "The job registry cannot be read (attempt {Attempt}): the scheduler admits nothing until it can, and asks again in {Seconds:F1} s")]
    private static partial void LogRegistryUnreadable(ILogger logger, Exception exception, int attempt, double seconds);

    [LoggerMessage(18, LogLevel.Warning, "Job {JobId} could not checkpoint to free its nodes for job {For} ({Reason}): the scheduler no longer waits for it and makes room elsewhere")]
    private static partial void LogPreemptionFailed(ILogger logger, string jobId, string @for, string reason);

    [LoggerMessage(19, LogLevel.Warning, "Job {JobId} has not reported to the restarted scheduler in {Seconds:F0} s: nodes running its stages are no longer held back for it")]
    private static partial void LogSilentJobGivenUp(ILogger logger, string jobId, double seconds);

    [LoggerMessage(20, LogLevel.Warning, "Node {NodeId} cordoned by the scheduler: {Reason}")]
    private static partial void LogFlakyCordoned(ILogger logger, string nodeId, string reason);

    [LoggerMessage(21, LogLevel.Warning, "Node {NodeId}'s flaky-device cordon could not be saved: it holds in this scheduler activation only")]
    private static partial void LogFlakyCordonUnsaved(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(22, LogLevel.Information, "Job {JobId} still has stages on draining node {NodeId} {Seconds:F0} s after it was asked to move them: asking again")]
    private static partial void LogDrainAskedAgain(ILogger logger, string jobId, string nodeId, double seconds);

    [LoggerMessage(23, LogLevel.Information, "Node {NodeId} draining: its silo {SiloAddress} is shutting down")]
    private static partial void LogLeaving(ILogger logger, string nodeId, string siloAddress);

    [LoggerMessage(24, LogLevel.Information, "Node {NodeId} takes stages again: its silo is back as {SiloAddress} after a graceful leave")]
    private static partial void LogReturned(ILogger logger, string nodeId, string siloAddress);

    [LoggerMessage(25, LogLevel.Warning, "The end of the leave of nodes {NodeIds} could not be saved: a re-activated scheduler ends it again")]
    private static partial void LogReturnUnsaved(ILogger logger, Exception exception, string nodeIds);

    [LoggerMessage(26, LogLevel.Warning, "The leave of node {NodeId} could not be saved: it holds in this scheduler activation only")]
    private static partial void LogLeaveUnsaved(ILogger logger, Exception exception, string nodeId);
}
