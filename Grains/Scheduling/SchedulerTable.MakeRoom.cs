using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>Making room for a job that does not fit: shrinking elastic jobs, then preempting lower-priority ones (decided only).</summary>
internal sealed partial class SchedulerTable
{
    /// <summary>
    /// Making room, gentlest first, decided only. Requests still pending count as done (their nodes as free) while they
    /// are within the release timeout; jobs whose request is overdue (or whose preemption checkpoint failed, see
    /// <see cref="PreemptionFailed"/>) are asked nothing more until it is forgotten, so a job whose checkpoint failed does
    /// not keep another waiting for ever — the next-best victim is asked instead.
    /// Elastic jobs of the same or lower priority running more replicas than their minimum shrink (lowest priority,
    /// then most replicas first; each only as far as needed) — fair sharing: they give back surplus, keep training and
    /// grow again when nodes are free. If that is not enough, the fewest lower-priority running jobs (lowest priority,
    /// then newest first) are preempted: they checkpoint and free their nodes. Null: no room can be made.
    /// </summary>
    private (PlacementDecision Decision, IReadOnlyList<PendingRelease> Requests)? MakeRoom(JobTicket ticket, AdmissionRequest request, DateTimeOffset now,
        IReadOnlySet<string> activeSilos)
    {
        var live = Pending.Values.Where(p => Jobs.ContainsKey(p.JobId) && p.JobId != ticket.JobId).ToArray();
        var overdue = live.Where(p => p.FailedBecause is not null || now - p.Since >= rules.ReleaseTimeout).Select(p => p.JobId).ToHashSet(StringComparer.Ordinal);
        var freed = live.Where(p => !p.IsShrink && !overdue.Contains(p.JobId)).Select(p => p.JobId).ToHashSet(StringComparer.Ordinal);
        var keeping = live.Where(p => p.IsShrink && !overdue.Contains(p.JobId)).ToDictionary(p => p.JobId, p => p.KeepStages, StringComparer.Ordinal);
        bool FitsFreed()
        {
            var excluded = new HashSet<string>(freed, StringComparer.Ordinal) { ticket.JobId };
            return Fits(request.Minimum, Candidates(now, activeSilos, excluded, keeping), request.MinimumPreferred, request.MinimumOwnNodes, request.MixedDevices);
        }
        if ((freed.Count > 0 || keeping.Count > 0) && FitsFreed())
            return (PlacementDecision.Refused(freed.Count > 0 ? PlacementRefusal.WaitingForPreemption : PlacementRefusal.WaitingForShrink,
                $"Waiting for job(s) {string.Join(", ", freed.Concat(keeping.Keys))} to shrink or checkpoint and free their nodes."), []);

        var elastic = Jobs.Where(j => j.Key != ticket.JobId && !keeping.ContainsKey(j.Key) && !freed.Contains(j.Key) && !overdue.Contains(j.Key)
                                      && Ticket(j.Key).Priority <= ticket.Priority && j.Value.Replicas > j.Value.Counts[^1])
            .OrderBy(j => Ticket(j.Key).Priority).ThenByDescending(j => j.Value.Replicas).ThenBy(j => j.Key, StringComparer.Ordinal).ToArray();
        var shrinks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (job, nodes) in elastic)
            foreach (int count in nodes.Counts.Where(c => c < nodes.Replicas))
            {
                shrinks[job] = count;
                keeping[job] = count * nodes.StagesPerReplica; // the highest replica ids go: the layout keeps the lowest
                if (!FitsFreed()) continue;
                PendingRelease[] asks = [.. shrinks.Select(s => new PendingRelease(s.Key, Jobs[s.Key].Epoch, s.Value, s.Value * Jobs[s.Key].StagesPerReplica,
                    [.. Jobs[s.Key].Nodes.Skip(s.Value * Jobs[s.Key].StagesPerReplica).Distinct(StringComparer.Ordinal)], ticket.JobId, now,
                    $"shrunk to {s.Value} replica(s) for job {ticket.JobId} (priority {ticket.Priority})"))];
                return (PlacementDecision.Refused(PlacementRefusal.WaitingForShrink, $"Waiting for job(s) {string.Join(", ", shrinks.Keys)} to shrink and free nodes."), asks);
            }
        foreach (string job in shrinks.Keys) keeping.Remove(job); // not enough: preempt instead, shrinking no one

        var victims = Jobs.Keys.Where(j => j != ticket.JobId && !freed.Contains(j) && !overdue.Contains(j) && Ticket(j).Priority < ticket.Priority)
            .OrderBy(j => Ticket(j).Priority).ThenByDescending(j => Ticket(j).SubmittedAt).ThenBy(j => j, StringComparer.Ordinal).ToArray();
        var chosen = new List<string>();
        foreach (string victim in victims)
        {
            chosen.Add(victim);
            freed.Add(victim);
            if (!FitsFreed()) continue;
            PendingRelease[] asks = [.. chosen.Select(j => new PendingRelease(j, Jobs[j].Epoch, null, 0, [.. Jobs[j].Nodes.Distinct(StringComparer.Ordinal)], ticket.JobId, now,
                $"preempted by job {ticket.JobId} (priority {ticket.Priority} over {Ticket(j).Priority})"))];
            return (PlacementDecision.Refused(PlacementRefusal.WaitingForPreemption,
                $"Waiting for preempted job(s) {string.Join(", ", chosen)} to checkpoint and free their nodes."), asks);
        }
        return null;
    }
}
