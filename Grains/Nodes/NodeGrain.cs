using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace Cluster.Grains.Nodes;

/// <summary>
/// One device slot of this silo. Registers with the scheduler (capabilities measured by a short calibration on the
/// device's own worker) and heartbeats its health, with the stages it runs (which job, epoch, replica and stage: the
/// node's own word, which a restarted scheduler uses before every job has reported). It only ever lives on its own silo: activation elsewhere fails.
/// Immovable: Orleans 10.4 migrates an activation with queued calls when its silo shuts down, and no other silo can
/// host this device (the placement director refuses, which Orleans logged as an error at every demo shutdown); the
/// node's calls fail with its silo instead, which is what a node leaving means.
/// </summary>
[NodeSiloPlacement]
[Immovable]
internal sealed partial class NodeGrain(
    DeviceWorkerPool workers,
    SiloHealthAggregator aggregator,
    IOptions<TrainingClusterOptions> options,
    TimeProvider time,
    ILogger<NodeGrain> logger) : Grain, INodeGrain
{
    private DeviceWorker _worker = null!;
    private NodeCapabilities? _capabilities;
    private IGrainTimer? _heartbeat;
    private long _sequence;
    private readonly DeviceUtilization _utilization = new();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string nodeId = this.GetPrimaryKeyString();
        _worker = workers.Find(nodeId) ?? throw new NodeUnavailableException(
            $"Node '{nodeId}' does not exist: silo '{workers.SiloName}' has the nodes {string.Join(", ", workers.NodeIds)}.");
        return Task.CompletedTask;
    }

    public async Task<NodeCapabilities> Start()
    {
        if (_capabilities is null)
        {
            double gigaflops = options.Value.DeviceGigaflops > 0
                ? options.Value.DeviceGigaflops // declared by the operator: identical devices, no measurement noise
                : (await _worker.Run(() => DeviceCalibration.MeasureGigaflops(_worker.Device))).Value;
            _capabilities = new NodeCapabilities(_worker.NodeId, workers.SiloName, _worker.Device.ToString(), _worker.MemoryBytes,
                Math.Round(gigaflops, 2), _worker.Threads);
            LogStarted(logger, _worker.NodeId, _capabilities.Device, _capabilities.GigaflopsMeasured, _worker.Threads);
        }
        await Scheduler.Register(_capabilities);
        _heartbeat ??= this.RegisterGrainTimer(SendHeartbeat, new GrainTimerCreationOptions
        {
            DueTime = options.Value.HeartbeatPeriod,
            Period = options.Value.HeartbeatPeriod,
            Interleave = true,
            KeepAlive = true,
        });
        return _capabilities;
    }

    public Task<NodeHealth> GetHealth() => Task.FromResult(Health());

    public Task<string> GetSiloName() => Task.FromResult(workers.SiloName);

    private const int RegistrationRenewalBeats = 20;
    private long _beats;

    private ISchedulerGrain Scheduler => GrainFactory.GetGrain<ISchedulerGrain>(SchedulerKeys.Default);

    private async Task SendHeartbeat(CancellationToken cancellationToken)
    {
        var beat = time.GetUtcNow();
        _utilization.Sample(_worker.BusyTime(beat), beat); // over the time since the last heartbeat
        try
        {
            // An unhealthy node gets no work, so it could never prove itself again: after a quiet cool-down, a
            // successful calibration run on the device clears its run of failures and it is Ready once more.
            // Never while an operation is in flight: a hung device would hang this check, and with it the heartbeat.
            // A check that fails (counted by the worker as a device error) starts the cool-down over; the heartbeat
            // still goes out.
            if (_worker.ConsecutiveErrors >= options.Value.MaxConsecutiveStepErrors && _worker.LastErrorAt is { } last
                && time.GetUtcNow() - last > options.Value.UnhealthyCooldown && _worker.InFlightSince is null)
            {
                try
                {
                    await _worker.Run(() => DeviceCalibration.MeasureGigaflops(_worker.Device, duration: TimeSpan.FromMilliseconds(20)));
                    _worker.ResetConsecutiveErrors();
                }
                catch (Exception e) when (e is not ObjectDisposedException)
                {
                    // The worker counted a device error already; anything else starts the cool-down over too.
                    if (!DeviceWorker.IsDeviceError(e)) _worker.RecordError($"device check failed: {e.Message}");
                    LogDeviceCheckFailed(logger, e, _worker.NodeId);
                }
            }
            // Registration is idempotent; renewing it now and then heals a scheduler that restarted on another silo
            // (or briefly ran twice while membership settled) without relying on a refused heartbeat to notice.
            if (_capabilities is not null && ++_beats % RegistrationRenewalBeats == 0)
                await Scheduler.Register(_capabilities);
            if (aggregator.Enabled)
            {
                if (aggregator.TakeUnknown(_worker.NodeId) && _capabilities is not null)
                    await Scheduler.Register(_capabilities); // the scheduler restarted and forgot us
                aggregator.Report(Health());
            }
            else if (!await Scheduler.Heartbeat(Health()) && _capabilities is not null)
            {
                await Scheduler.Register(_capabilities);
            }
        }
        catch (Exception e)
        {
            LogHeartbeatFailed(logger, e, _worker.NodeId);
        }
    }

    private NodeHealth Health()
    {
        var now = time.GetUtcNow();
        var (p50, p99) = _worker.StepTimes();
        int errors = _worker.ErrorCount; // before the verdict: an error it counts is in the budget's count already (RecordDeviceError's order)
        string? hung = DeviceHangCheck.HungReason(_worker, now, DeviceHangBounds.From(options.Value));
        string? flaky = hung is null ? FlakyReason(now) : null;
        string? verdict = hung ?? flaky;
        bool? flakyVerdict = verdict is null ? null : flaky is not null;
        if (flakyVerdict is not null && flakyVerdict != _reportedFlaky)
            LogUnhealthy(logger, _worker.NodeId, verdict!);
        _reportedFlaky = flakyVerdict;
        var state = _capabilities is null ? NodeState.Starting
            : verdict is not null || _worker.ConsecutiveErrors >= options.Value.MaxConsecutiveStepErrors ? NodeState.Unhealthy
            : NodeState.Ready;
        return new NodeHealth(_worker.NodeId, state, Interlocked.Increment(ref _sequence), p50, p99,
            _worker.DeviceMemoryInUse() ?? ResidentMemory.Bytes() / Math.Max(1, workers.Workers.Count), errors, verdict ?? _worker.LastError,
            now, _worker.ActiveStages)
        {
            InFlightOperationMs = _worker.InFlightAge(now).TotalMilliseconds,
            Occupants = _worker.Occupants(),
            FlakyDevice = flaky is not null,
            DeviceUtilization = _utilization.Last,
        };
    }

    /// <summary>
    /// Why the device counts as flaky (<see cref="TrainingClusterOptions.DeviceErrorBudget"/> of its own errors within
    /// the window, good steps between them or not), or null.
    /// </summary>
    private string? FlakyReason(DateTimeOffset now)
    {
        var settings = options.Value;
        if (settings.DeviceErrorBudget == 0) return null;
        int recent = _worker.DeviceErrorsSince(now - settings.DeviceErrorWindow);
        return recent < settings.DeviceErrorBudget ? null
            : $"flaky device: {recent} device errors within {settings.DeviceErrorWindow} (the budget is {settings.DeviceErrorBudget}); the last: {_worker.LastError}";
    }

    private bool? _reportedFlaky; // the last heartbeat's verdict: null none, false a hang, true a flaky device (logged when it starts or changes kind)

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        LogDeactivated(logger, _worker.NodeId, reason.ToString());
        _heartbeat?.Dispose();
        return Task.CompletedTask;
    }
}
