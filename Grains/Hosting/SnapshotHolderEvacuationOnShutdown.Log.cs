using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Hosting;

internal sealed partial class SnapshotHolderEvacuationOnShutdown
{
    [LoggerMessage(1, LogLevel.Information, "Shutting down: {Moved} snapshot holder(s) moved to other silos with their copies in {Seconds:F1} s")]
    private static partial void LogEvacuated(ILogger logger, int moved, double seconds);

    [LoggerMessage(2, LogLevel.Warning, "Shutting down: moving the snapshot holders took longer than {Seconds:F0} s ({Moved} asked to move; {Left} holder(s) still here, {Parcels} parcel(s) not yet taken); copies left here go with the silo and their stages snapshot again at their next step")]
    private static partial void LogEvacuationTimedOut(ILogger logger, int moved, double seconds, int left, int parcels);

    [LoggerMessage(3, LogLevel.Warning, "Shutting down: snapshot holder {Holder} could not be asked to move ({Reason}); its copies go with the silo")]
    private static partial void LogNotMoved(ILogger logger, string holder, string reason);

    [LoggerMessage(4, LogLevel.Information, "Shutting down: {Parcels} parcel(s) of snapshot holders that came here while the silo was leaving, and moved on, taken in {Seconds:F1} s")]
    private static partial void LogLateParcelsTaken(ILogger logger, int parcels, double seconds);

    [LoggerMessage(5, LogLevel.Information, "Shutting down: waiting for {Parcels} parcel(s) of snapshot holders that came here while the silo was leaving, and moved on")]
    private static partial void LogWaitingForLateParcels(ILogger logger, int parcels);

    [LoggerMessage(6, LogLevel.Warning, "Shutting down: this silo's parcel grain could not be activated ({Reason}); a snapshot holder that comes here while the silo leaves may lose its copies with it")]
    private static partial void LogParcelsNotActivated(ILogger logger, string reason);

    [LoggerMessage(7, LogLevel.Warning, "Shutting down: the parcels of snapshot holders that came here while the silo was leaving were not all taken within {Seconds:F0} s ({Parcels} waited for, {Left} not yet taken); copies left here go with the silo and their stages snapshot again at their next step")]
    private static partial void LogLateParcelsTimedOut(ILogger logger, double seconds, int parcels, int left);
}
