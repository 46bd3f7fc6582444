using System.Diagnostics;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Nodes;
using Microsoft.Extensions.Options;

namespace Cluster.Bench.Heartbeats;

/// <summary>
/// The heartbeat protocol of <c>NodeGrain</c> without its device: register, then every heartbeat period hand the
/// silo's <see cref="SiloHealthAggregator"/> a health record (or, with batching off, call the scheduler and time the
/// round trip), registering again when the scheduler says it does not know the node.
/// </summary>
internal sealed class SyntheticNodeGrain(
    SiloHealthAggregator aggregator,
    DirectHeartbeatRecorder direct,
    IOptions<TrainingClusterOptions> options,
    TimeProvider time) : Grain, ISyntheticNodeGrain
{
    private NodeCapabilities? _capabilities;
    private IGrainTimer? _timer;
    private long _sequence;

    private ISchedulerGrain Scheduler => GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    public async Task Start(string siloName)
    {
        string id = this.GetPrimaryKeyString();
        _capabilities ??= new NodeCapabilities(id, siloName, "none", 80_000_000_000, 1_000, 1);
        await Scheduler.Register(_capabilities);
        var period = options.Value.HeartbeatPeriod;
        // Nodes start in bursts; spread their phases over the period as independent machines' would be.
        _timer ??= this.RegisterGrainTimer(Beat, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * period.TotalMilliseconds),
            Period = period,
            Interleave = true,
            KeepAlive = true,
        });
    }

    private async Task Beat(CancellationToken cancellationToken)
    {
        var health = new NodeHealth(_capabilities!.NodeId, NodeState.Ready, ++_sequence, 0, 0, 0, 0, null, time.GetUtcNow(), 0);
        if (aggregator.Enabled)
        {
            if (aggregator.TakeUnknown(health.NodeId)) await Scheduler.Register(_capabilities);
            aggregator.Report(health);
            return;
        }
        long start = Stopwatch.GetTimestamp();
        try
        {
            if (!await Scheduler.Heartbeat(health)) await Scheduler.Register(_capabilities);
            direct.Record(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        catch (Exception)
        {
            direct.Failed(); // counted; a lost heartbeat is what failure detection must tolerate
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }
}
