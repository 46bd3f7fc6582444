namespace Cluster.Grains.Scheduling;

/// <summary>
/// A request the scheduler sent and waits on (issue 13, "preemption and shrink are protocols, not awaits"): job
/// <paramref name="JobId"/>, placed in <paramref name="Epoch"/>, was asked to free <paramref name="Nodes"/> for job
/// <paramref name="ForJob"/> — by shrinking to <paramref name="KeepReplicas"/> replicas, or (null) by checkpointing and
/// releasing everything. The job's release (or its placing again, for a shrink) resolves it; so does its failure
/// (it releases when it finishes). Past the release timeout the scheduler stops counting on it and makes room
/// elsewhere; past twice that the request is forgotten and may be sent again.
/// </summary>
internal sealed record PendingRelease(string JobId, long Epoch, int? KeepReplicas, int KeepStages, IReadOnlyList<string> Nodes, string ForJob, DateTimeOffset Since, string Reason)
{
    public bool IsShrink => KeepReplicas is not null;

    /// <summary>Why the job could not do what it was asked (its preemption checkpoint failed); null while it may still.</summary>
    public string? FailedBecause { get; init; }
}
