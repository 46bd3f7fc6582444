using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Checkpoints;

internal sealed partial class CheckpointShardGrain
{
    [LoggerMessage(1, LogLevel.Debug, "Shard {Shard}: snapshot of step {Step} is durable ({Bytes} bytes)")]
    private static partial void LogDurable(ILogger logger, string shard, long step, long bytes);

    [LoggerMessage(2, LogLevel.Information, "Snapshot holder {Shard} is on silo {Silo}, taken by its stage or a lower-index holder ({Taken}; {Why}): moving away")]
    private static partial void LogMisplaced(ILogger logger, string shard, string silo, string taken, string why);

    [LoggerMessage(3, LogLevel.Warning, "Snapshot holder {Shard}: a durable write failed before it moved (the commit waiting on it fails and is retried)")]
    private static partial void LogWriteFailedBeforeMove(ILogger logger, Exception e, string shard);

    [LoggerMessage(4, LogLevel.Information, "Snapshot holder {Shard}: holder {Sibling} could not be asked for its snapshots")]
    private static partial void LogSiblingUnreachable(ILogger logger, Exception e, string shard, int sibling);

    [LoggerMessage(5, LogLevel.Information, "Snapshot holder {Shard}: a durable write failed before the job released its holders")]
    private static partial void LogWriteFailedAtRelease(ILogger logger, Exception e, string shard);

    [LoggerMessage(6, LogLevel.Information, "Snapshot holder {Shard}: its job could not be asked whether it ended; the copy is held")]
    private static partial void LogJobUnreachable(ILogger logger, Exception e, string shard);

    [LoggerMessage(7, LogLevel.Information, "Snapshot holder {Shard}: a copy of epoch {Epoch} reached a new activation after its job ended ({State}, epoch {JobEpoch}); refused")]
    private static partial void LogLateCopyAfterJobEnded(ILogger logger, string shard, long epoch, string state, long jobEpoch);

    [LoggerMessage(8, LogLevel.Warning, "Snapshot holder {Shard}: the copies (steps {Steps}) it left on silo {Silo} when it migrated could not be taken over; it holds none of them")]
    private static partial void LogMigratedSnapshotsLost(ILogger logger, Exception e, string shard, string silo, string steps);

    [LoggerMessage(9, LogLevel.Information, "Snapshot holder {Shard}: its silo {Silo} is shutting down; moving to another silo with its copies (steps {Steps})")]
    private static partial void LogLeavingShuttingDownSilo(ILogger logger, string shard, string silo, string steps);

    [LoggerMessage(20, LogLevel.Information, "Snapshot holder {Shard}: took over the copies (steps {Steps}) left on silo {Silo} by a migration of it, or of its stage, whose new activation never took them")]
    private static partial void LogTookParcelLeftBehind(ILogger logger, string shard, string silo, string steps);

    [LoggerMessage(21, LogLevel.Information, "Snapshot holder {Shard}: silo {Silo} could not be asked for copies it left there")]
    private static partial void LogParcelLookupFailed(ILogger logger, Exception e, string shard, string silo);

    [LoggerMessage(22, LogLevel.Warning, "Snapshot holder {Shard} stays on silo {Silo} with its copies: no placement chose another silo for it (it is tried again with its next copy)")]
    private static partial void LogStaysNoPlacement(ILogger logger, string shard, string silo);
}
