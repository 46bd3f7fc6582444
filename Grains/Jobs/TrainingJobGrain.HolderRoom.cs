using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Jobs;

/// <summary>Before a live stage moves to another silo, its snapshot holders there make room (rule 5 of the redundancy invariant).</summary>
internal sealed partial class TrainingJobGrain
{
    /// <summary>How long the job waits for one holder to make room for its moving stage (and to answer from its new silo) before it moves the stage anyway.</summary>
    private static readonly TimeSpan MakeRoomLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The job's half of rule (5) of the redundancy invariant (<c>CheckpointShardGrain</c>): before a live stage is
    /// configured on a node of another silo — an operator's drain, a straggler's or a scale-up's move, rank 0 changing
    /// silos — its snapshot holders on that silo move away and answer from their new silo (their copies with them), so
    /// the stage's own copies and a holder's never share a silo while the stage moves. Only rank 0's stages keep copies,
    /// so only their silos count. Best effort: a holder that cannot be asked (its silo died or froze) is left to rule
    /// (2), which moves it at the stage's next snapshot.
    /// <para>
    /// Not in a recovery: a stage re-placed because its silo died has no copies of its own left, and its holder's may be
    /// the only ones — moving them before the stage restores from them risks that last copy (the holder's placement may
    /// pick a silo that died but is not yet declared dead: seen in <c>TenKillProcessTests</c>, where a holder that made
    /// room in a recovery arrived empty and the job fell back to its durable checkpoint). There the stage restores from
    /// the holder where it is, and its configuration re-seeds — and so moves — the holder afterwards (rule 3).
    /// </para>
    /// </summary>
    private async Task MakeRoomForMovingStages(JobSpec spec, ReplicaPlacement decision, Dictionary<(int Replica, int Stage), string> previousNode)
    {
        if (decision.Replicas.Count == 0) return;
        var rank0 = decision.Replicas[0];
        var moving = rank0.Nodes.Select((node, s) => (Stage: s, Silo: NodeIds.SiloOf(node), Was: previousNode.TryGetValue((rank0.Replica, s), out var was) ? NodeIds.SiloOf(was) : null))
            .Where(m => m.Was is not null && m.Silo is not null && m.Silo != m.Was).ToArray(); // a stage placed for the first time has no copies to keep apart
        await Task.WhenAll(moving.SelectMany(m => SnapshotHolders.Keys(spec.JobId, m.Stage, spec.SnapshotReplicas).Select(key => MakeRoom(spec.JobId, key, m.Silo!, m.Was!))));
    }

    /// <summary>
    /// Has one holder make room on <paramref name="stageSilo"/> — its new place avoids that silo and the stage's current
    /// one (<paramref name="stageWas"/>), named in the call's hints rather than left to the grain directory's answer —
    /// and, when it moved, waits until it answers from its new silo with every copy it carried. A holder that cannot be asked is logged and left to rule (2). One that moved but
    /// lost its copies on the way (the silo it left died meanwhile), or does not answer after its move, throws
    /// <see cref="HolderCopiesLostException"/>: the stage, not yet moved, holds the only copies, and the job recovers
    /// from them instead of moving it (on the next attempt the holder is elsewhere already).
    /// </summary>
    private async Task MakeRoom(string jobId, string holderKey, string stageSilo, string stageWas)
    {
        var holder = GrainFactory.GetGrain<ICheckpointShardGrain>(holderKey);
        long[]? carried;
        try
        {
            Task<long[]?> asking;
            RequestContext.Set(PlacementContextKeys.AvoidSilo, stageSilo); // the holder's new place avoids the stage's next silo
            RequestContext.Set(PlacementContextKeys.AlsoAvoidSilo, stageWas); // and the one it is on until it moves
            try
            {
                asking = holder.MakeRoom(S.Epoch, stageSilo);
            }
            finally
            {
                RequestContext.Remove(PlacementContextKeys.AvoidSilo);
                RequestContext.Remove(PlacementContextKeys.AlsoAvoidSilo);
            }
            carried = await asking.WaitAsync(MakeRoomLimit, time);
        }
        catch (Exception e)
        {
            LogMakeRoomFailed(logger, jobId, holderKey, stageSilo, ShortError.Of(e));
            return;
        }
        if (carried is null) return;
        LogHolderMadeRoom(logger, jobId, holderKey, stageSilo);
        long[] arrived;
        try
        {
            arrived = await holder.GetSnapshotSteps().WaitAsync(MakeRoomLimit, time); // answered on its new silo: it has taken its copies there
        }
        catch (Exception e)
        {
            throw new HolderCopiesLostException($"Snapshot holder {holderKey} moved off silo '{stageSilo}' to make room for its stage and did not answer since ({ShortError.Of(e)}).");
        }
        if (carried.Except(arrived).ToArray() is { Length: > 0 } lost)
            throw new HolderCopiesLostException(
                $"Snapshot holder {holderKey} lost its copies of step(s) {string.Join(", ", lost)} while it moved off silo '{stageSilo}' to make room for its stage; the stage keeps its own.");
    }
}
