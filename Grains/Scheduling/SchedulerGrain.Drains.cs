namespace Cluster.Grains.Scheduling;

/// <summary>A drain is a state the scheduler keeps asking for until it holds, not one message.</summary>
internal sealed partial class SchedulerGrain
{
    /// <summary>How long a job on a draining node has to move off it before it is asked again; doubled after each ask, up to <see cref="DrainReaskMostInterval"/>.</summary>
    private static readonly TimeSpan DrainReaskInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest wait between asks: a job with nowhere to move says so (an event) each time it is asked, and is asked
    /// on, so that it moves once a node frees up.
    /// </summary>
    private static readonly TimeSpan DrainReaskMostInterval = TimeSpan.FromMinutes(1);

    // When each job was last asked to move off each draining node, and how long it then had before the next ask.
    private readonly Dictionary<(string JobId, string NodeId), (DateTimeOffset At, TimeSpan Next)> _drainAsked = [];

    /// <summary>
    /// Invariant (a drain ends): while a node is draining, every job the table places on it is asked to move off it,
    /// and asked again — after <see cref="DrainReaskInterval"/>, then twice as long each time, at most
    /// <see cref="DrainReaskMostInterval"/> — until it has. The ask is one-way (<see cref="Send"/>) and
    /// can come to nothing: the call fails or times out (it is only logged), or it reaches a job that is being placed
    /// anew, which drops a move asked of the placement it is leaving — while the scheduler, having decided that
    /// placement just before the drain, lists the job on the node. Asked once, such a drain never ended: the stage
    /// stayed on the draining node (<c>DrainReaskTests</c> drops the first two asks).
    /// Called by the watch loop, and first by <c>Drain</c> itself, which names its node as <paramref name="drainedNow"/>:
    /// its jobs are asked at once, however recently an earlier drain of it asked them.
    /// </summary>
    private void AskDrainingJobs(DateTimeOffset now, string? drainedNow = null)
    {
        if (drainedNow is not null)
            foreach (var earlier in _drainAsked.Keys.Where(k => k.NodeId == drainedNow).ToArray()) _drainAsked.Remove(earlier);
        var draining = _nodes.Values.Where(n => n.MovesOff).Select(n => n.Capabilities.NodeId).ToHashSet(StringComparer.Ordinal);
        if (draining.Count == 0 && _drainAsked.Count == 0) return; // the usual case: nothing to look through
        var onDraining = _jobs.SelectMany(j => j.Value.Nodes.Where(draining.Contains).Distinct(StringComparer.Ordinal).Select(n => (JobId: j.Key, NodeId: n))).ToHashSet();
        foreach (var gone in _drainAsked.Keys.Where(k => !onDraining.Contains(k)).ToArray()) _drainAsked.Remove(gone);
        foreach (var (jobId, nodeId) in onDraining)
        {
            var next = DrainReaskInterval;
            if (_drainAsked.TryGetValue((jobId, nodeId), out var asked))
            {
                if (now - asked.At < asked.Next) continue;
                LogDrainAskedAgain(logger, jobId, nodeId, (now - asked.At).TotalSeconds);
                next = TimeSpan.FromTicks(Math.Min(asked.Next.Ticks * 2, DrainReaskMostInterval.Ticks));
            }
            _drainAsked[(jobId, nodeId)] = (now, next);
            string why = $"node {nodeId} is being drained{Because(DrainReason(nodeId))}";
            Send(jobId, job => job.MoveStagesOff([nodeId], why));
        }
    }
}
