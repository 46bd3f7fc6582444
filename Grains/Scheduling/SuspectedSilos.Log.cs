using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Scheduling;

internal sealed partial class SuspectedSilos
{
    [LoggerMessage(1, LogLevel.Warning, "Silo {Silo} is suspected by membership (a vote at {VotedAt:O}): its nodes take no new stages until the vote expires")]
    private static partial void LogSuspected(ILogger logger, string silo, DateTimeOffset votedAt);

    [LoggerMessage(2, LogLevel.Warning, "The membership table could not be read for suspicion votes; placement uses the last {Known} suspected silo(s) known until it can")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, int known);

    [LoggerMessage(3, LogLevel.Warning, "The membership table did not answer within {Seconds} s; placement uses the last {Known} suspected silo(s) known until it does")]
    private static partial void LogReadHangs(ILogger logger, double seconds, int known);

    [LoggerMessage(4, LogLevel.Information, "The membership table is readable again: {Suspected} silo(s) suspected")]
    private static partial void LogReadable(ILogger logger, int suspected);
}
