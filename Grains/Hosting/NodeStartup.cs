using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Starts this silo's node grains once the silo has joined the cluster: each calibrates its device, registers with
/// the scheduler and begins heartbeating. Retries until it succeeds or the silo stops.
/// </summary>
internal sealed partial class NodeStartup(DeviceWorkerPool workers, IGrainFactory grains, IHostApplicationLifetime lifetime, ILogger<NodeStartup> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await HostStarted.WaitAsync(lifetime, stoppingToken)) return;
        foreach (string nodeId in workers.NodeIds)
        {
            for (int attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
            {
                try
                {
                    await grains.GetGrain<INodeGrain>(nodeId).Start();
                    break;
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogStartFailed(logger, e, nodeId, attempt);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * attempt)), stoppingToken).ConfigureAwait(false);
                }
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Node {NodeId} could not start (attempt {Attempt}); retrying")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, string nodeId, int attempt);
}
