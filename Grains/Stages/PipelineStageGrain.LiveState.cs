using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Jobs;

namespace Cluster.Grains.Stages;

/// <summary>
/// A replica's live state counted as a copy by a recovery. With data-parallel replicas only rank 0 keeps snapshots
/// (<c>ReplicaStages.Snapshotting</c>), yet after every update each rank holds, live, the very state rank 0 copied: the
/// gradients are all-reduced in the canonical order and every rank takes the same optimizer step. So when rank 0's
/// silo and its holders' are lost together, a surviving rank still holds every bit of the stage's state of its step,
/// and the job restores from it instead of the durable checkpoint (as TorchFT recovers a lost replica group from a
/// live peer).
/// <para>
/// Invariant (a live copy is of the job's timeline): the live state is offered and kept only for the epoch the job
/// counted its steps in (<see cref="GetLiveStateStep"/>, <see cref="KeepLiveState"/> take it), never across a
/// re-configuration — a stage that missed an operator's rewind holds a state of a timeline the job left, at a step the
/// new one may have reached too. The copy is of the state as of the last update, also in the middle of a step (a
/// replica whose peer died mid-step is typically halfway: its all-reduce waits for the dead rank). It is taken on the
/// device in queue order, so an update of the old epoch still queued there (sent before the failure was seen) either
/// runs after it — the copy is of the step asked, and the restore puts the stage back to it — or before it, and then
/// the step no longer matches and nothing is kept: the job's restore finds no copy of that step there and falls back
/// (to another copy, or the durable checkpoint).
/// </para>
/// </summary>
internal sealed partial class PipelineStageGrain
{
    /// <summary>How long keeping the live state may take (a device copy and an encoding): a hung device must not hold a recovery up.</summary>
    private static readonly TimeSpan LiveStateLimit = TimeSpan.FromSeconds(30);

    public Task<long> GetLiveStateStep(long epoch) =>
        Task.FromResult(_executor is { } executor && _worker is not null && epoch == _epoch ? executor.CompletedSteps : -1);

    public async Task<bool> KeepLiveState(long epoch, long completedSteps)
    {
        if (_ownSnapshots.Any(o => o.Record.Step == completedSteps && o.Units.Count > 0)) return true;
        if (_executor is not { } executor || _worker is not { } worker || epoch != _epoch || executor.CompletedSteps != completedSteps) return false;
        IReadOnlyList<Kernels.Checkpoint.UnitStateImage>? images;
        try
        {
            images = (await worker.Run(() => executor.CompletedSteps == completedSteps ? executor.ExportUpdatedState() : null).WaitAsync(LiveStateLimit, time)).Value;
        }
        catch (Exception e) when (e is TimeoutException or ObjectDisposedException)
        {
            LogLiveStateNotKept(logger, this.GetPrimaryKeyString(), completedSteps, ShortError.Of(e));
            return false;
        }
        // Checked again after the wait: a Configure meanwhile (a new epoch, its stale copies already dropped) must not
        // get a copy of the epoch it left.
        if (images is null || epoch != _epoch || !ReferenceEquals(executor, _executor)) return false;
        KeepOwn(new SnapshotRecord(completedSteps, epoch, null), images);
        LogLiveStateKept(logger, this.GetPrimaryKeyString(), completedSteps, epoch);
        return true;
    }
}
