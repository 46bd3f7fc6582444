using Cluster.Grains.Interfaces.Checkpoints;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Where a recovering job resumes from: the in-memory snapshots when every stage still has a copy of one step newer
/// than the last durable checkpoint, else the durable checkpoint. Pure, so the fleet simulator drives the same rule.
/// </summary>
public static class RecoveryPoint
{
    /// <summary>
    /// The newest step of which every stage still has an in-memory copy (its own, if it stayed on its node, or its
    /// shard's on another silo), when newer than <paramref name="newestDurableStep"/> and not past
    /// <paramref name="completedSteps"/>; null when the job must restore its durable checkpoint instead.
    /// </summary>
    public static long? InMemoryStep(IReadOnlyList<IReadOnlySet<long>> copiesPerStage, long newestDurableStep, long completedSteps)
    {
        ArgumentNullException.ThrowIfNull(copiesPerStage);
        if (copiesPerStage.Count == 0) return null;
        long best = -1;
        foreach (long step in copiesPerStage[0])
        {
            if (step <= newestDurableStep || step > completedSteps || step <= best) continue;
            bool everywhere = true;
            for (int s = 1; s < copiesPerStage.Count && everywhere; s++)
                everywhere = copiesPerStage[s].Contains(step);
            if (everywhere) best = step;
        }
        return best >= 0 ? best : null;
    }

    /// <summary>
    /// <see cref="InMemoryStep(IReadOnlyList{IReadOnlySet{long}}, long, long)"/> over the copies' records, which may also
    /// restore past <paramref name="completedSteps"/>: the snapshot holders are the job's per-step record between saves
    /// of its state. Returns the step and the losses of the steps from <paramref name="completedSteps"/> to it (empty
    /// when not past it); null when the job must restore its durable checkpoint.
    /// <para>
    /// Why a step past the saved count may be taken (the coordinator's silo died after counting steps it had not saved
    /// yet: its state is saved in the background, never on the step's critical path): a step counts only once every
    /// stage's copy of its state is held away from the stage (the commit point, <c>TrainingJobGrain.Run</c>), and every
    /// copy carries the loss of the step that produced it. So step M &gt; <paramref name="completedSteps"/> is taken
    /// only when every stage still holds a copy of M taken in <paramref name="countedEpoch"/> — the epoch the saved count
    /// belongs to, so the copy is of the same timeline (a copy of an older epoch may be of a timeline an operator
    /// rewound away from; a newer epoch's placement seeds every holder with its own restore point before any step) —
    /// and every step between has its loss in a record of that epoch: the restored state is one the job computed and held,
    /// and its loss history has no gap. Held but not yet counted is as good: the state is the deterministic one of that
    /// step. A copy without a loss (taken when a stage was configured, or a replica's live state) never takes the job
    /// past the saved count by itself.
    /// </para>
    /// <para>
    /// <paramref name="updateLosses"/>: the losses of the steps whose update the job had sent in
    /// <paramref name="countedEpoch"/> but not counted yet when it failed (with overlap, up to two), as this activation
    /// knows them, keyed like records by the steps completed after each. An update is sent only once every stage's
    /// gradients are reduced, so any stage that applied it holds the one state of that step; with its loss known,
    /// copies of it — a surviving replica's live state, typically, while rank 0's snapshot of it was still on its way —
    /// serve like a held snapshot's.
    /// </para>
    /// </summary>
    public static (long Step, double[] Losses)? InMemoryStep(IReadOnlyList<IReadOnlyCollection<SnapshotRecord>> recordsPerStage, long newestDurableStep,
        long completedSteps, long countedEpoch, IReadOnlyDictionary<long, double>? updateLosses = null)
    {
        ArgumentNullException.ThrowIfNull(recordsPerStage);
        if (recordsPerStage.Count == 0) return null;
        var losses = new Dictionary<long, double>(updateLosses ?? new Dictionary<long, double>());
        foreach (var record in recordsPerStage.SelectMany(r => r))
            if (record.Epoch == countedEpoch && record.StepLoss is { } loss)
                losses[record.Step] = loss;
        long reach = completedSteps; // the newest step whose loss, and every one's before it, is known
        while (losses.ContainsKey(reach + 1)) reach++;
        long best = -1;
        foreach (long step in recordsPerStage[0].Select(r => r.Step).Distinct())
        {
            if (step <= newestDurableStep || step > reach || step <= best) continue;
            bool past = step > completedSteps;
            if (recordsPerStage.All(records => records.Any(r => r.Step == step && (!past || r.Epoch == countedEpoch)))) best = step;
        }
        if (best < 0) return null;
        double[] adopted = [.. Enumerable.Range(0, (int)Math.Max(0, best - completedSteps)).Select(i => losses[completedSteps + 1 + i])];
        return (best, adopted);
    }
}
