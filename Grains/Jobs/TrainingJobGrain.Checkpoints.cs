using System.Diagnostics;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Compute;
using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Interfaces.Stages;
using Cluster.Grains.Placement;
using Cluster.Grains.Scheduling;
using Cluster.Grains.Stages;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Streams;

namespace Cluster.Grains.Jobs;

/// <summary>Snapshots and durable checkpoints, as the step loop sees them; commits belong to the CheckpointCoordinator.</summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>Snapshots the state of <paramref name="step"/> (every stage's executor is there) in memory; returns once every holder acknowledged it.</summary>
    private async Task SnapshotInMemory(ReplicaStages stages, long step, double? stepLoss)
    {
        if (_lastSnapshotStep == step) return;
        long epoch = S.Epoch;
        await Guard(Task.WhenAll(stages.Snapshotting.Select(s => s.Snapshot(epoch, step, durable: false, stepLoss))));
        _lastSnapshotStep = step;
    }

    /// <summary>
    /// Begins the in-memory snapshot of <paramref name="step"/> (every stage's executor is there): returns once every
    /// stage has copied its state off the device, with a task that completes once every stage's copy is held (kept by
    /// the stage and acknowledged by every holder). The step loop counts the step only after that task (see <c>Run</c>).
    /// </summary>
    private async Task<Task> BeginSnapshotInMemory(ReplicaStages stages, long step, double? stepLoss)
    {
        long epoch = S.Epoch;
        await Guard(Task.WhenAll(stages.Snapshotting.Select(s => s.BeginSnapshot(epoch, step, durable: false, stepLoss))));
        return Task.WhenAll(stages.Snapshotting.Select(s => s.SnapshotHeld(epoch, step)));
    }

    /// <summary>
    /// Commits a checkpoint of the current step (unless one is already committed) and returns its manifest;
    /// <see cref="StorageUnavailableException"/> when the store cannot take it now.
    /// </summary>
    private async Task<CheckpointManifest> CheckpointAndCommit(JobSpec spec, ReplicaStages stages)
    {
        if (_checkpoints.PendingStep != S.CompletedSteps)
        {
            await ApplyCommitted(await _checkpoints.Drain());
            if (S.LastCheckpointStep != S.CompletedSteps)
                await Checkpoint(spec, stages);
        }
        if (await _checkpoints.Wait() is { } manifest)
        {
            await ApplyCommitted(manifest);
            if (manifest.Step == S.CompletedSteps) return manifest;
        }
        IReadOnlyList<CheckpointManifest> committed;
        try
        {
            committed = await store.ListManifestsAsync(spec.JobId);
        }
        catch (Exception e)
        {
            throw new StorageUnavailableException($"the checkpoint store ({store.Description}) cannot be listed: {ShortError.Of(e)}", e);
        }
        return committed.LastOrDefault(m => m.Step == S.CompletedSteps)
            ?? throw new InvalidOperationException($"The checkpoint of step {S.CompletedSteps} of job {spec.JobId} is not among the committed ones.");
    }

    /// <summary><see cref="CheckpointAndCommit"/>, or null (logged) when storage is out: the action that needed it waits.</summary>
    private async Task<CheckpointManifest?> CheckpointOrDefer(JobSpec spec, ReplicaStages stages, string what, Func<string, Task>? deferred = null)
    {
        try
        {
            return await CheckpointAndCommit(spec, stages);
        }
        catch (StorageUnavailableException e)
        {
            LogDeferred(logger, spec.JobId, what, e.Message);
            if (deferred is not null) await deferred(e.Message);
            return null;
        }
    }

    private static bool IsCheckpointDue(JobSpec spec, long completedSteps) =>
        completedSteps == spec.Steps || (spec.CheckpointInterval > 0 && completedSteps % spec.CheckpointInterval == 0);

    /// <summary>The loss of the last counted step, recorded with a snapshot of the counted state; null before the first.</summary>
    private double? CountedStepLoss => S.CompletedSteps > 0 && _writer.Losses.Count == S.CompletedSteps ? _writer.Losses[^1] : null;

    /// <summary>
    /// Takes the durable snapshots of this step and starts their commit in the background. With a commit still in
    /// flight (a slow or hung store) it is skipped: the checkpoint coordinator allows one at a time.
    /// </summary>
    private async Task Checkpoint(JobSpec spec, ReplicaStages stages)
    {
        if (await TakeCheckpointSnapshots(stages, S.CompletedSteps, CountedStepLoss) is { } before)
            await BeginCommit(spec, S.CompletedSteps, before);
    }

    /// <summary>
    /// Takes the durable snapshots of <paramref name="step"/> (every stage's executor is there); they are in-memory
    /// snapshots too, acknowledged once every holder has them. Returns the state to go back to once the commit has
    /// begun, or null when it is skipped: a commit is still in flight (the checkpoint coordinator allows one at a time)
    /// or this step's is committed.
    /// </summary>
    private async Task<JobState?> TakeCheckpointSnapshots(ReplicaStages stages, long step, double? stepLoss)
    {
        if (await BeginCheckpointSnapshots(stages, step, stepLoss) is not { } checkpoint) return null;
        await Guard(checkpoint.Held);
        _lastSnapshotStep = step;
        return checkpoint.Before;
    }

    /// <summary>
    /// <see cref="TakeCheckpointSnapshots"/> up to the device copies: returns once every stage has copied its state off
    /// the device, with a task that completes once every stage's copy is held (and handed to the store's writer), and
    /// the state to go back to once the commit has begun; null when the checkpoint is skipped.
    /// </summary>
    private async Task<(Task Held, JobState Before)?> BeginCheckpointSnapshots(ReplicaStages stages, long step, double? stepLoss)
    {
        await ApplyCommitted(_checkpoints.Collect());
        if (_checkpoints.PendingStep >= 0 || S.LastCheckpointStep == step) return null;
        long epoch = S.Epoch;
        var before = S.State;
        await Transition(JobState.Checkpointing, S.Error, Persist.None, null, publish: false);
        await Guard(Task.WhenAll(stages.Snapshotting.Select(s => s.BeginSnapshot(epoch, step, durable: true, stepLoss))));
        return (Task.WhenAll(stages.Snapshotting.Select(s => s.SnapshotHeld(epoch, step))), before);
    }

    /// <summary>Starts the background commit of <paramref name="step"/>'s durable snapshots (taken and counted) with the losses since the last sealed loss chunk.</summary>
    private async Task BeginCommit(JobSpec spec, long step, JobState before)
    {
        _checkpoints.Begin(spec, S.Epoch, step, _writer.LossesForCheckpoint());
        await Publish(JobNarrator.CheckpointingText(step));
        if (S.State == JobState.Checkpointing) // the commit goes on in the background
            await Transition(before, S.Error, Persist.None, null, publish: false);
    }

    /// <summary>Records a committed checkpoint in job state (written in the background) and says so.</summary>
    private async Task ApplyCommitted(CheckpointManifest? manifest)
    {
        if (manifest is null || manifest.Epoch != S.Epoch || manifest.Step > S.CompletedSteps) return; // a commit of a timeline the job left
        S.LastCheckpointStep = manifest.Step;
        _writer.Request();
        await Publish(JobNarrator.CheckpointCommittedText(manifest.Step));
    }

    /// <summary>The job's committed checkpoints; <see cref="StorageUnavailableException"/> when the store cannot list them.</summary>
    private async Task<IReadOnlyList<CheckpointManifest>> ListCommitted(string jobId)
    {
        try
        {
            return await store.ListManifestsAsync(jobId);
        }
        catch (Exception e)
        {
            throw new StorageUnavailableException($"the checkpoint store ({store.Description}) cannot be listed: {ShortError.Of(e)}", e);
        }
    }
}
