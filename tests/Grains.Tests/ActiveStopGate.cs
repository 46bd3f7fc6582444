namespace Cluster.Grains.Tests;

/// <summary>
/// Holds one silo's graceful stop in its <c>Active</c> stage — as a host's drain that takes its time does — until the
/// test opens it: the silo is leaving but still serves calls and takes activations, its snapshot holders' evacuation
/// (which runs in the same stage) done or under way. A lifecycle participant on every silo of a fixture (<see cref="For"/>);
/// disarmed by default, armed for one silo by name.
/// </summary>
public sealed class ActiveStopGate
{
    private volatile Armed? _armed;

    private sealed class Armed(string silo)
    {
        public string Silo { get; } = silo;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Holds the next graceful stop of <paramref name="siloName"/> in its Active stage until <see cref="Open"/>.</summary>
    public void Arm(string siloName) => _armed = new Armed(siloName);

    /// <summary>Completes once the armed silo's stop is held.</summary>
    public Task Reached => (_armed ?? throw new InvalidOperationException("Not armed.")).Reached.Task;

    /// <summary>Lets the held stop go on, and holds no more.</summary>
    public void Open() => Interlocked.Exchange(ref _armed, null)?.Opened.TrySetResult();

    /// <summary>The participant for the silo named <paramref name="siloName"/>.</summary>
    public ILifecycleParticipant<ISiloLifecycle> For(string siloName) => new Participant(this, siloName);

    private sealed class Participant(ActiveStopGate gate, string siloName) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(ActiveStopGate), ServiceLifecycleStage.Active, _ => Task.CompletedTask, async stopping =>
            {
                if (gate._armed is not { } armed || armed.Silo != siloName || stopping.IsCancellationRequested) return; // a forced stop is never held
                armed.Reached.TrySetResult();
                await armed.Opened.Task.WaitAsync(stopping);
            });
    }
}
