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
}
