using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Graceful shutdown (SIGTERM, systemctl stop): before this silo leaves the cluster, asks the scheduler to drain its
/// nodes and waits — bounded by <see cref="ShutdownOptions.DrainTimeout"/> — until none of them runs a stage any more
/// (neither in the scheduler's placement nor on this machine's device workers),
/// so jobs move on from live state instead of recovering from a checkpoint. Then, within the same bound, it waits until
/// the grains that moved off this silo have taken the copies they left here (<see cref="MigrationParcels"/>): a moved
/// stage's own snapshots and a moved holder's wait here until the new activation reads them, and leaving before that
/// would lose them — the job would then restore from the other copy, or from a checkpoint. A stage counts from the
/// moment it gives up its device, before Orleans dehydrates it (<see cref="MigrationParcels.Departing"/>), so no
/// drained node hides a move still under way. Invariant: a graceful shutdown that ends within
/// <see cref="ShutdownOptions.DrainTimeout"/> leaves no copy of a moved grain behind.
/// Runs first in the silo's stop sequence (the Active stage), while this silo still serves calls.
/// </summary>
internal sealed partial class DrainOnShutdown(
    DeviceWorkerPool workers, MigrationParcels parcels, IGrainFactory grains, IOptions<ShutdownOptions> options, TimeProvider time, ILogger<DrainOnShutdown> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(250);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DrainOnShutdown), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    internal async Task StopAsync(CancellationToken hostStopping)
    {
        var settings = options.Value;
        if (!settings.Drain) return;
        using var deadline = new CancellationTokenSource(settings.DrainTimeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, hostStopping);
        try
        {
            await DrainNodes(stop.Token);
            await WaitForParcels(stop.Token);
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut(logger, settings.DrainTimeout.TotalSeconds, parcels.Count);
        }
        catch (Exception e)
        {
            // E.g. the scheduler cannot drain (an older version) or is unreachable: leave anyway; jobs recover as after a loss.
            LogDrainFailed(logger, e);
        }
    }

    private async Task DrainNodes(CancellationToken stop)
    {
        var nodes = workers.NodeIds.ToHashSet(StringComparer.Ordinal);
        if (nodes.Count == 0) return;
        var scheduler = grains.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        long started = time.GetTimestamp();
        LogDraining(logger, string.Join(", ", nodes));
        foreach (string node in nodes)
        {
            try
            {
                await scheduler.Drain(node).WaitAsync(stop);
            }
            catch (NodeNotFoundException)
            {
                // never registered (e.g. stopped during start-up): nothing runs there
            }
        }
        while (true)
        {
            // Gone in the scheduler's placement, and gone from this machine's devices (the moved stages detached).
            var placed = (await scheduler.GetNodes().WaitAsync(stop))
                .Where(n => nodes.Contains(n.Capabilities.NodeId) && n.Stages.Count > 0)
                .SelectMany(n => n.Stages)
                .ToList();
            if (placed.Count == 0 && workers.Workers.All(w => w.ActiveStages == 0))
            {
                LogDrained(logger, time.GetElapsedTime(started).TotalSeconds);
                return;
            }
            await Task.Delay(s_pollInterval, time, stop);
        }
    }

    private async Task WaitForParcels(CancellationToken stop)
    {
        int held = parcels.Count;
        if (held == 0) return;
        long started = time.GetTimestamp();
        LogWaitingForParcels(logger, held);
        await parcels.WhenEmpty(stop);
        LogParcelsTaken(logger, time.GetElapsedTime(started).TotalSeconds);
    }

    [LoggerMessage(1, LogLevel.Information, "Shutting down: draining nodes {Nodes}")]
    private static partial void LogDraining(ILogger logger, string nodes);

    [LoggerMessage(2, LogLevel.Information, "Nodes drained in {Seconds:F1} s")]
    private static partial void LogDrained(ILogger logger, double seconds);

    [LoggerMessage(3, LogLevel.Warning, "Stages still on this silo's nodes, or {Parcels} moving grains' copies not yet taken, after {Seconds:F0} s (Shutdown:DrainTimeout); leaving anyway, their jobs restore from other copies or checkpoints")]
    private static partial void LogDrainTimedOut(ILogger logger, double seconds, int parcels);

    [LoggerMessage(4, LogLevel.Warning, "Could not drain this silo's nodes before leaving; their jobs recover as after a failure")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "Waiting for {Parcels} grains moving off this silo to take the copies they leave on it")]
    private static partial void LogWaitingForParcels(ILogger logger, int parcels);

    [LoggerMessage(6, LogLevel.Information, "The grains moving off this silo took their copies in {Seconds:F1} s; leaving the cluster")]
    private static partial void LogParcelsTaken(ILogger logger, double seconds);
}
