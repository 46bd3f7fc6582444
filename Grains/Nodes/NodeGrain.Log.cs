using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Nodes;

internal sealed partial class NodeGrain
{
    [LoggerMessage(1, LogLevel.Information, "Node {NodeId} started on {Device}: {Gigaflops} GFLOP/s measured with {Threads} threads")]
    private static partial void LogStarted(ILogger logger, string nodeId, string device, double gigaflops, int threads);

    [LoggerMessage(3, LogLevel.Warning, "Node {NodeId} deactivated: {Reason}")]
    private static partial void LogDeactivated(ILogger logger, string nodeId, string reason);

    [LoggerMessage(4, LogLevel.Error, "Node {NodeId} is unhealthy: {Reason}")]
    private static partial void LogUnhealthy(ILogger logger, string nodeId, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Node {NodeId} could not send its heartbeat")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(5, LogLevel.Warning, "Node {NodeId} failed its device check after the cool-down: it stays unhealthy")]
    private static partial void LogDeviceCheckFailed(ILogger logger, Exception exception, string nodeId);
}
