using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// A fault hook on the holders' side of a snapshot: once armed, every copy of one stage's snapshot of one step that is
/// handed to a holder (<see cref="ICheckpointShardGrain.Accept"/>) is held back until <see cref="Release"/>, and then
/// fails — the copy never arrived. The test uses that window, where a stage has applied its update but its snapshot is
/// not held yet, to lose the stage's silo. One instance per fixture, registered on its silos as an incoming filter.
/// Every copy handed to a holder, armed or not, is logged (<see cref="AcceptsOf"/>).
/// </summary>
public sealed class SnapshotAcceptTrap : IIncomingGrainCallFilter
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _nextStepUpdated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Armed? _armed;
    private readonly System.Collections.Concurrent.ConcurrentQueue<HolderAccept> _accepts = new();
    private volatile int _mark;

    private sealed record Armed(string JobId, int Stage, long Step);

    /// <summary>One copy handed to a holder: its holder key, epoch, step and stage, and the <see cref="Mark"/> it came after.</summary>
    public sealed record HolderAccept(string Holder, long Epoch, long Step, int Stage, int AfterMark);

    /// <summary>What a held-back copy fails with once released; by default an <see cref="IOException"/> (not a delivery failure: not retried).</summary>
    public Func<string, Exception> FailWith { get; init; } = message => new IOException(message);

    /// <summary>Numbers a moment of the test: every copy that arrives later records it.</summary>
    public void Mark(int mark) => _mark = mark;

    /// <summary>The copies of <paramref name="jobId"/>'s snapshots handed to holders so far, in arrival order.</summary>
    public IReadOnlyList<HolderAccept> AcceptsOf(string jobId) => [.. _accepts.Where(a => a.Holder.Contains(jobId, StringComparison.Ordinal))];

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
        if (context.InterfaceMethod.DeclaringType == typeof(ICheckpointShardGrain) && context.InterfaceMethod.Name == nameof(ICheckpointShardGrain.Accept)
            && context.Request.GetArgument(0) is long epoch && context.Request.GetArgument(1) is long step && context.Request.GetArgument(2) is int stage)
        {
            _accepts.Enqueue(new HolderAccept(context.TargetId.Key.ToString()!, epoch, step, stage, _mark));
            if (_armed is { } armed && context.TargetId.Key.ToString()!.Contains(armed.JobId, StringComparison.Ordinal) && step == armed.Step && stage == armed.Stage)
            {
                _reached.TrySetResult();
                await _released.Task;
                throw FailWith($"injected: the snapshot of step {step} of stage s{stage} never reached holder {context.TargetId}");
            }
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
