using Cluster.Grains.Compute;
using Cluster.Grains.Nodes;

namespace Cluster.Grains.Jobs;

/// <summary>
/// The job's own step watchdog: a step that runs longer than max(<c>factor</c> × the p99 of the job's recent step
/// times, <c>floor</c>) is hung, wherever the hang is — a stage's device, a lost message, a stuck reduction — which
/// the nodes' own hang check (<see cref="DeviceHangCheck"/>) cannot all see. <see cref="Start"/> watches one step:
/// the calls it makes are <see cref="WatchedStep.Track"/>ed, so the verdict names the call still outstanding, and a
/// timer on the job's <see cref="TimeProvider"/> reports the hang once, through the callback (the job abandons the
/// step and recovers). Steps that finish feed the window; a hung one does not. After a stage is (re)configured
/// (<see cref="BeginWarmup"/>) the next <see cref="WarmupSteps"/> steps may run up to <see cref="WarmupBound"/>: its
/// device is warming up (the node's own check allows it <c>DeviceHangWarmupLimit</c>), and a slow first step is not a hang.
/// </summary>
internal sealed class StepWatchdog
{
    private readonly TimeProvider _time;
    private readonly StepTimeWindow _stepTimes;

    private int _warmupLeft;

    public StepWatchdog(TimeProvider time, double factor, TimeSpan floor, int window = 64, int warmupSteps = 0, TimeSpan? warmupBound = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps, nameof(warmupSteps));
        WarmupSteps = warmupSteps;
        WarmupBound = warmupBound ?? floor;
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1, nameof(factor));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(floor, TimeSpan.Zero, nameof(floor));
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1, nameof(window));
        _time = time;
        Factor = factor;
        Floor = floor;
        _stepTimes = new StepTimeWindow(window);
    }

    public double Factor { get; }

    public TimeSpan Floor { get; }

    /// <summary>Steps after a <see cref="BeginWarmup"/> that get at least <see cref="WarmupBound"/>.</summary>
    public int WarmupSteps { get; }

    /// <summary>The least bound of a step during a warm-up.</summary>
    public TimeSpan WarmupBound { get; }

    /// <summary>A stage was (re)configured: the next <see cref="WarmupSteps"/> steps are a warm-up.</summary>
    public void BeginWarmup() => Volatile.Write(ref _warmupLeft, WarmupSteps);

    /// <summary>p99 of the recent finished steps, in ms (0 before the first).</summary>
    public double StepTimeP99Ms => _stepTimes.Percentiles().P99;

    /// <summary>How long a step may run now before it counts as hung.</summary>
    public TimeSpan Bound => DeviceHangCheck.Limit(StepTimeP99Ms, Factor, DeviceHangCheck.FloorOf(Floor, Volatile.Read(ref _warmupLeft) > 0, WarmupBound));

    internal TimeProvider Time => _time;

    /// <summary>Watches step <paramref name="step"/> from now; <paramref name="hung"/> gets the reason (once) if it passes the bound. Dispose when the step ends.</summary>
    public WatchedStep Start(long step, Action<string> hung) => new(this, step, Bound, hung);

    internal void Finished(TimeSpan stepTime)
    {
        _stepTimes.Add(stepTime.TotalMilliseconds);
        if (Volatile.Read(ref _warmupLeft) > 0) Interlocked.Decrement(ref _warmupLeft);
    }
}
