using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cluster.Grains.Nodes;

/// <summary>
/// One per silo: its nodes hand their heartbeats over locally (no message), and every
/// <see cref="TrainingClusterOptions.HeartbeatBatchWindow"/> the latest heartbeat of each node goes to the scheduler in
/// one <see cref="ISchedulerGrain.HeartbeatBatch"/> call. The scheduler then handles a few messages per silo per window
/// instead of one per node per heartbeat period. Nodes the scheduler does not know are flagged so that they register again.
/// <para>
/// Invariant: a silo's nodes heartbeat for as long as the silo is Active — through a graceful stop's drain too. The host
/// stops its hosted services before the silo (Orleans' own hosted service is registered before this one), so ending
/// the forwarding with the host's stop silenced the nodes of a leaving silo from its SIGTERM on: one
/// <see cref="TrainingClusterOptions.NodeTimeout"/> later the scheduler declared them lost while the drain still waited
/// for a step boundary to move their stages, and the leave became a failure and a recovery (seen in
/// <c>KillDuringLeaveProcessTests</c>; any step longer than NodeTimeout did it). The forwarding now ends in the silo's
/// <c>BecomeActive</c> stop stage — after the whole <c>Active</c> stage, the drain included, as membership marks the silo
/// shutting down, from which point the scheduler knows its nodes gone by their silo's status.
/// </para>
/// </summary>
public sealed partial class SiloHealthAggregator(
    IGrainFactory grains,
    IOptions<TrainingClusterOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<SiloHealthAggregator> logger) : BackgroundService, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _siloInactive = new(); // cancelled once the silo is no longer Active (see the class)
    private int _disposed;
    private readonly object _gate = new();
    private Dictionary<string, NodeHealth> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unknown = new(StringComparer.Ordinal);
    private readonly LatencyHistogram _latencies = new();
    private long _failed;
    private int _batches;

    /// <summary>Whether heartbeats go through the aggregator (a positive batch window) or straight to the scheduler.</summary>
    public bool Enabled => options.Value.HeartbeatBatchWindow > TimeSpan.Zero;

    /// <summary>Queues a node's heartbeat; a newer one from the same node replaces one not yet sent.</summary>
    public void Report(NodeHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        lock (_gate)
        {
            if (!_pending.TryGetValue(health.NodeId, out var queued) || health.Sequence > queued.Sequence)
                _pending[health.NodeId] = health;
        }
    }

    /// <summary>True once after the scheduler answered that it does not know the node (it restarted): register again.</summary>
    public bool TakeUnknown(string nodeId)
    {
        lock (_gate) return _unknown.Remove(nodeId);
    }

    /// <summary>Delivery counts and latencies since the last call, which starts a new window.</summary>
    public HeartbeatDeliveryStats TakeStats()
    {
        lock (_gate)
        {
            var stats = HeartbeatDeliveryStats.Of(_latencies, _failed, _batches);
            _latencies.Clear();
            (_failed, _batches) = (0, 0);
            return stats;
        }
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(SiloHealthAggregator), ServiceLifecycleStage.BecomeActive, _ => Task.CompletedTask, _ => _siloInactive.CancelAsync());
    }

    /// <summary>Returns at once: the host's stop comes before the silo's drain, and the heartbeats go on until the silo is no longer Active (see the class).</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return; // one instance behind three registrations: disposed once
        _siloInactive.Cancel();
        base.Dispose(); // cancels the token ExecuteAsync was given
        _siloInactive.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _siloInactive.Token);
        if (!await HostStarted.WaitAsync(lifetime, stop.Token)) return;
        var scheduler = grains.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);
        using var timer = new PeriodicTimer(options.Value.HeartbeatBatchWindow, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
                await Flush(scheduler);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the silo is no longer Active, or the host is disposed
        }
    }

    private async Task Flush(ISchedulerGrain scheduler)
    {
        Dictionary<string, NodeHealth> batch;
        lock (_gate)
        {
            if (_pending.Count == 0) return;
            batch = _pending;
            _pending = new Dictionary<string, NodeHealth>(batch.Count, StringComparer.Ordinal);
        }
        try
        {
            var unknown = await scheduler.HeartbeatBatch([.. batch.Values]);
            var now = time.GetUtcNow();
            lock (_gate)
            {
                foreach (string id in unknown) _unknown.Add(id);
                foreach (var health in batch.Values) _latencies.Record((now - health.SentAt).TotalMilliseconds);
                _batches++;
            }
        }
        catch (Exception e)
        {
            // Lost heartbeats are what failure detection is for; the next window carries fresh ones.
            lock (_gate) _failed += batch.Count;
            LogBatchFailed(logger, e, batch.Count);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Could not forward {Count} heartbeats to the scheduler")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);
}
