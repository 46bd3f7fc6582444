using Cluster.Grains.Interfaces.Jobs;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Jobs;

internal sealed partial class TrainingJobGrain
{
    [LoggerMessage(1, LogLevel.Information, "Job {JobId} submitted: {Steps} steps on {Stages} stages")]
    private static partial void LogSubmitted(ILogger logger, string jobId, int steps, int stages);


    [LoggerMessage(3, LogLevel.Information, "Job {JobId} {State} after {Steps} steps, last loss {Loss}")]
    private static partial void LogFinished(ILogger logger, string jobId, JobState state, long steps, double loss);

    [LoggerMessage(4, LogLevel.Error, "Job {JobId} failed at step {Step}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string jobId, long step);

    [LoggerMessage(5, LogLevel.Warning, "Job {JobId}: releasing a stage failed")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(7, LogLevel.Warning, "Job {JobId} lost a step at {Step} (failure {Failures} without progress); recovering")]
    private static partial void LogRecovering(ILogger logger, Exception exception, string jobId, long step, int failures);


    [LoggerMessage(9, LogLevel.Warning, "Job {JobId}: checkpoint at step {Step} rejected because of {Shard}: {Reason}")]
    private static partial void LogCheckpointRejected(ILogger logger, string jobId, long step, string shard, string reason);

    [LoggerMessage(10, LogLevel.Information, "Job {JobId}: an in-memory snapshot copy is unreachable")]
    private static partial void LogNoMemorySnapshot(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(11, LogLevel.Information, "Job {JobId} paused at step {Step}")]
    private static partial void LogPaused(ILogger logger, string jobId, long step);

    [LoggerMessage(12, LogLevel.Warning, "Job {JobId}: stages not moved ({Why}): {Reason}")]
    private static partial void LogMoveRefused(ILogger logger, string jobId, string why, string? reason);

    [LoggerMessage(13, LogLevel.Warning, "Job {JobId}: node {NodeId} is a straggler: {Reason}")]
    private static partial void LogStraggler(ILogger logger, string jobId, string nodeId, string reason);

    [LoggerMessage(14, LogLevel.Warning, "Job {JobId} preempted at step {Step}: {Reason}")]
    private static partial void LogPreempted(ILogger logger, string jobId, long step, string reason);

    [LoggerMessage(6, LogLevel.Debug, "Job {JobId}: progress could not be published")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(15, LogLevel.Error, "Job {JobId}: the coordinator loop stopped unexpectedly; the watchdog restarts it")]
    private static partial void LogLoopDied(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(16, LogLevel.Warning, "Job {JobId}: this activation was superseded and stops: {Reason}")]
    private static partial void LogFenced(ILogger logger, string jobId, string reason);

    [LoggerMessage(17, LogLevel.Warning, "Job {JobId} waits for storage at step {Step}: {Reason}")]
    private static partial void LogWaitingForStorage(ILogger logger, Exception? exception, string jobId, long step, string reason);

    [LoggerMessage(18, LogLevel.Information, "Job {JobId}: storage is back at step {Step} after {Seconds:F1} s")]
    private static partial void LogStorageBack(ILogger logger, string jobId, long step, double seconds);

    [LoggerMessage(19, LogLevel.Warning, "Job {JobId}: releasing its nodes or leaving the registry failed")]
    private static partial void LogReleaseNodesFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(20, LogLevel.Warning, "Job {JobId}: {What} deferred, storage is unavailable: {Reason}")]
    private static partial void LogDeferred(ILogger logger, string jobId, string what, string reason);

    [LoggerMessage(21, LogLevel.Warning, "Job {JobId}: this activation is no longer valid ({Reason}); its loop stops and the job's next activation carries on")]
    private static partial void LogActivationLost(ILogger logger, string jobId, string reason);

    [LoggerMessage(49, LogLevel.Warning, "Job {JobId}: the scheduler could not answer its question for {Question} ({Reason}); going on without it, asked again at the next chance")]
    private static partial void LogNoAdvice(ILogger logger, Exception exception, string jobId, string question, string reason);

    [LoggerMessage(40, LogLevel.Warning, "Job {JobId} could not tell the scheduler that its preemption checkpoint failed (the request times out there instead)")]
    private static partial void LogPreemptionReportFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(41, LogLevel.Information, "Job {JobId}: its saved state counted {Saved} steps; every stage has an in-memory copy of step {Held}: the count and the losses between are taken from the copies' records (and the loss of the step whose update was under way)")]
    private static partial void LogCountTakenFromHolders(ILogger logger, string jobId, long saved, long held);

    [LoggerMessage(42, LogLevel.Warning, "Job {JobId}: replica stage {Stage} did not keep its live state of step {Step} for the restore ({Reason})")]
    private static partial void LogLiveStateNotKept(ILogger logger, string jobId, string stage, long step, string reason);

    [LoggerMessage(43, LogLevel.Information, "Job {JobId}: snapshot holder {Holder} moved off silo {Silo} before its stage moves there")]
    private static partial void LogHolderMadeRoom(ILogger logger, string jobId, string holder, string silo);

    [LoggerMessage(44, LogLevel.Warning, "Job {JobId}: snapshot holder {Holder} could not be asked to make room on silo {Silo} for its moving stage ({Reason}); its next snapshot moves it")]
    private static partial void LogMakeRoomFailed(ILogger logger, string jobId, string holder, string silo, string reason);

    [LoggerMessage(45, LogLevel.Warning, "Job {JobId}: the configuration of stage {Stage} was lost with the silo it was sent to (try {Try}: {Reason}); sending it again")]
    private static partial void LogConfigureLostToSilo(ILogger logger, string jobId, string stage, int @try, string reason);

    [LoggerMessage(46, LogLevel.Information, "Job {JobId}: handed over at step {Step} (epoch {Epoch}): its silo {Silo} is shutting down; the job's next activation carries on from live state")]
    private static partial void LogHandedOver(ILogger logger, string jobId, long step, long epoch, string silo);

    [LoggerMessage(48, LogLevel.Information, "Job {JobId}: taking over at step {Step} from the coordinator of epoch {Epoch} on silo {Silo}, which handed it over {Seconds:F1} s ago")]
    private static partial void LogTakingOver(ILogger logger, string jobId, long step, long epoch, string silo, double seconds);

    [LoggerMessage(50, LogLevel.Information, "Job {JobId}: asked to hand over at its next step boundary, its silo shutting down ({State}, step {Step})")]
    private static partial void LogHandOverAsked(ILogger logger, string jobId, JobState state, long step);
}
