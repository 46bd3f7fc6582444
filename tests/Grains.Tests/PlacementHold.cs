using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// Holds back the scheduler's <see cref="ISchedulerGrain.PlaceReplicas"/> for one job, as it arrives, until the test lets
/// it run: the job stays in the middle of its placement while the test acts on it. An incoming filter on every silo.
/// </summary>
public sealed class PlacementHold : IIncomingGrainCallFilter
{
    private volatile Held? _held;

    private sealed class Held(string jobId)
    {
        public string JobId { get; } = jobId;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Holds the next placement calls of <paramref name="jobId"/> until <see cref="Release"/>.</summary>
    public void Arm(string jobId) => _held = new Held(jobId);

    /// <summary>Completes when a held placement call has arrived.</summary>
    public Task Reached => (_held ?? throw new InvalidOperationException("Nothing is held: arm first.")).Reached.Task;

    /// <summary>Lets every held call run, and holds no more.</summary>
    public void Release()
    {
        var held = _held;
        _held = null;
        held?.Released.TrySetResult();
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_held is { } held && context.InterfaceMethod.Name == nameof(ISchedulerGrain.PlaceReplicas)
            && context.InterfaceMethod.DeclaringType == typeof(ISchedulerGrain) && context.Request.GetArgument(0) as string == held.JobId)
        {
            held.Reached.TrySetResult();
            await held.Released.Task;
        }
        await context.Invoke();
    }
}
