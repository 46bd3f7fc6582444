using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Starts this silo's node grains once the silo has joined the cluster: each calibrates its device, registers with
/// the scheduler and begins heartbeating. Retries until it succeeds or the silo stops; afterwards it restarts any node
/// grain the runtime deactivated.
/// </summary>
internal sealed partial class NodeStartup(
    DeviceWorkerPool workers,
    IGrainFactory grains,
    IHostApplicationLifetime lifetime,
    IOptions<TrainingClusterOptions> options,
    ILogger<NodeStartup> logger)
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

        // A node grain can lose its activation while its silo is fine — with Orleans' default grain directory, every
        // activation whose directory entry a dying silo held is deactivated (seen with real silo processes; see
        // AddTrainingCluster). A node grain that is gone sends no heartbeats, so its device would be lost to the
        // cluster for good: look after them and start any that came back empty.
        using var timer = new PeriodicTimer(options.Value.NodeTimeout);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            foreach (string nodeId in workers.NodeIds)
            {
                try
                {
                    var node = grains.GetGrain<INodeGrain>(nodeId);
                    if ((await node.GetHealth()).State != NodeState.Starting) continue;
                    LogRestarting(logger, nodeId);
                    await node.Start();
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogStartFailed(logger, e, nodeId, 0); // the next tick tries again
                }
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Node {NodeId} could not start (attempt {Attempt}); retrying")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, string nodeId, int attempt);

    [LoggerMessage(2, LogLevel.Warning, "Node {NodeId} lost its activation; starting it again")]
    private static partial void LogRestarting(ILogger logger, string nodeId);
}
