using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Stages;

internal sealed partial class PipelineStageGrain
{
    [LoggerMessage(3, LogLevel.Warning, "Stage {Stage}: freeing a dropped executor on its device failed")]
    private static partial void LogDisposeFailed(ILogger logger, Exception exception, string stage);

    [LoggerMessage(2, LogLevel.Information, "Stage {Stage}: {Message}")]
    private static partial void LogHolderMoving(ILogger logger, string stage, string message);

    [LoggerMessage(4, LogLevel.Warning, "Stage {Stage}: snapshot holder {Holder} is unreachable ({Error}); asking again until its silo is declared dead and it is re-created elsewhere")]
    private static partial void LogHolderUnreachable(ILogger logger, string stage, string holder, string error);

    [LoggerMessage(5, LogLevel.Information, "Stage {Stage}: the snapshot of step {Step} in flight failed ({Error}); the next one goes ahead")]
    private static partial void LogSnapshotInFlightFailed(ILogger logger, string stage, long step, string error);

    [LoggerMessage(6, LogLevel.Warning, "Stage {Stage}: the snapshot of step {Step} was still on its way to a holder {Seconds} s into the stage's release; released without it (the holder may keep a late copy until it is collected idle)")]
    private static partial void LogSnapshotSendOutlivedRelease(ILogger logger, string stage, long step, double seconds);

    [LoggerMessage(1, LogLevel.Information, "Stage {Stage} configured for epoch {Epoch} on node {NodeId} ({Plan}), at step {Step}")]
    private static partial void LogConfigured(ILogger logger, string stage, long epoch, string nodeId, string plan, long step);

    [LoggerMessage(7, LogLevel.Information, "Stage {Stage}: kept its live state of step {Step} (epoch {Epoch}) as its own copy for the job's restore")]
    private static partial void LogLiveStateKept(ILogger logger, string stage, long step, long epoch);

    [LoggerMessage(8, LogLevel.Warning, "Stage {Stage}: its live state of step {Step} could not be kept ({Error})")]
    private static partial void LogLiveStateNotKept(ILogger logger, string stage, long step, string error);

    [LoggerMessage(9, LogLevel.Warning, "Stage {Stage}: the snapshot copies (steps {Steps}) it left on silo {Silo} when it migrated could not be taken over; it holds none of them")]
    private static partial void LogMigratedSnapshotsLost(ILogger logger, Exception e, string stage, string silo, string steps);
}
