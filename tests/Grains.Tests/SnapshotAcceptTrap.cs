using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// A fault hook on the holders' side of a snapshot: once armed, every copy of one stage's snapshot of one step that is
/// handed to a holder (<see cref="ICheckpointShardGrain.Accept"/>) is held back until <see cref="Release"/>, and then
/// fails — the copy never arrived. The test uses that window, where a stage has applied its update but its snapshot is
/// not held yet, to lose the stage's silo. One instance per fixture, registered on its silos as an incoming filter.
/// </summary>
public sealed class SnapshotAcceptTrap : IIncomingGrainCallFilter
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _nextStepUpdated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Armed? _armed;

    private sealed record Armed(string JobId, int Stage, long Step);

    /// <summary>Completes when the first copy of the armed snapshot reaches a holder (and is held back).</summary>
    public Task Reached => _reached.Task;

    /// <summary>
    /// Completes when the armed stage has applied the update of the step that starts from the armed snapshot's state
    /// (its <see cref="IPipelineStageGrain.ApplyUpdate"/> of that step returned) while armed — so before the armed
    /// snapshot could be held: the next step computed before the snapshot was held.
    /// </summary>
    public Task NextStepUpdated => _nextStepUpdated.Task;

    public void Arm(string jobId, int stage, long step) => _armed = new Armed(jobId, stage, step);

    /// <summary>Disarms, and fails every copy held back.</summary>
    public void Release()
    {
        _armed = null;
        _released.TrySetResult();
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_armed is { } armed && context.InterfaceMethod.DeclaringType == typeof(ICheckpointShardGrain)
            && context.InterfaceMethod.Name == nameof(ICheckpointShardGrain.Accept)
            && context.TargetId.Key.ToString()!.Contains(armed.JobId, StringComparison.Ordinal)
            && context.Request.GetArgument(1) is long step && step == armed.Step
            && context.Request.GetArgument(2) is int stage && stage == armed.Stage)
        {
            _reached.TrySetResult();
            await _released.Task;
            throw new IOException($"injected: the snapshot of step {step} of stage s{stage} never reached holder {context.TargetId}");
        }
        if (_armed is { } watched && context.InterfaceMethod.DeclaringType == typeof(IPipelineStageGrain)
            && context.InterfaceMethod.Name == nameof(IPipelineStageGrain.ApplyUpdate)
            && context.TargetId.Key.ToString()!.Contains(StageKeys.Stage(watched.JobId, 0, watched.Stage), StringComparison.Ordinal)
            && context.Request.GetArgument(1) is long updated && updated == watched.Step)
        {
            await context.Invoke();
            if (_armed is not null) _nextStepUpdated.TrySetResult(); // still held back after the update
            return;
        }
        await context.Invoke();
    }
}
