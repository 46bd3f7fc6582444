using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

internal sealed partial class SchedulerGrain
{
    /// <summary>Gang placement of a data-parallel job (see <see cref="ReplicaAdmission"/>), through the one admission path.</summary>
    public async Task<ReplicaPlacement> PlaceReplicas(string jobId, ReplicaRequest request)
    {
        if (ReplicaAdmission.Problem(request) is { } problem)
            return ReplicaPlacement.Refused(PlacementRefusal.InvalidRequest, problem);
        if (StartingProblem() is null)
            await AdoptLate(jobId, request); // a job that never answered the rebuild: what it holds is reconciled first
        var (admission, split) = ReplicaAdmission.For(jobId, request, _table);
        var choice = await Admit(admission);
        return choice.Decision.Placed
            ? new ReplicaPlacement(true, split(choice.Decision), choice.Decision.Reason is { } fewer ? fewer + NotPlaceableNote() : null)
            : ReplicaPlacement.Refused(choice.Decision.Refusal, choice.Decision.Reason ?? "not placed");
    }

    /// <summary>
    /// The nodes placement passed over for a liveness rule (see <see cref="NotPlaceable"/>), for the job's narration of
    /// a placement with fewer replicas than it asked for: "why did the drain shrink my job instead of moving it onto the
    /// machine that just joined?" — its silo not yet Active in the scheduler's view, say. Empty when there are none.
    /// </summary>
    private string NotPlaceableNote()
    {
        const int Listed = 4;
        var notPlaceable = NotPlaceableRule();
        var passedOver = _nodes.Values.Where(n => !_table.Lost.Contains(n.Capabilities.NodeId) && !n.Cordoned && !n.MovesOff)
            .Select(n => (n.Capabilities.NodeId, Why: notPlaceable(n))).Where(n => n.Why is not null)
            .OrderBy(n => n.NodeId, StringComparer.Ordinal).ToArray();
        if (passedOver.Length == 0) return "";
        string more = passedOver.Length > Listed ? $"; and {passedOver.Length - Listed} more" : "";
        return $" Not placeable now: {string.Join("; ", passedOver.Take(Listed).Select(n => $"{n.NodeId} ({n.Why})"))}{more}.";
    }

    /// <summary>
    /// Growth onto free nodes, never at anyone's expense: refused while another job of the same or higher priority
    /// waits for nodes, or a lower-priority one would fit in what is free, and unless every current replica keeps its nodes.
    /// </summary>
    public Task<ReplicaPlacement> ProposeMoreReplicas(string jobId, ReplicaRequest request)
    {
        if (ReplicaAdmission.Problem(request) is { } problem)
            return Task.FromResult(ReplicaPlacement.Refused(PlacementRefusal.InvalidRequest, problem));
        if (!_jobs.ContainsKey(jobId))
            return Task.FromResult(ReplicaPlacement.Refused(PlacementRefusal.NoPlacement, $"Job {jobId} holds no placement."));
        int running = request.Current.Count;
        int[] larger = [.. request.ReplicaCounts.Where(c => c > running).Distinct().OrderDescending()];
        if (larger.Length == 0)
            return Task.FromResult(ReplicaPlacement.Refused(PlacementRefusal.NoImprovement, $"Job {jobId} already runs its most replicas ({running})."));
        // Growth is opportunistic: a waiting job of the same or higher priority goes first (fair sharing), and so does a
        // lower-priority one that fits in what is free now.
        var free = Candidates();
        var ticket = Ticket(jobId);
        if (Queue().FirstOrDefault(w => w.Ticket.JobId != jobId && (w.Ticket.Priority >= ticket.Priority || w.FitsIn(free))) is { } waiting)
            return Task.FromResult(ReplicaPlacement.Refused(PlacementRefusal.QueuedBehind, $"Job {waiting.Ticket.JobId} is waiting for nodes and goes first."));
        var candidates = Candidates(excludingJob: jobId);
        var usable = candidates.Select(c => c.NodeId).ToHashSet(StringComparer.Ordinal);
        foreach (int count in larger)
        {
            var layout = ReplicaLayout.For(request.Stages, count, request.Current, usable.Contains);
            var decision = PlacementPolicy.Place(layout.Demands, candidates, layout.Preferred, request.MixedDevices);
            if (!decision.Placed
                || !SchedulerTable.OnOwnNodes(decision)
                || layout.Preferred.Where((node, i) => node.Length > 0 && decision.NodeByStage[i] != node).Any()
                || QuotaProblem(ticket, decision.NodeByStage) is not null)
                continue;
            return Task.FromResult(new ReplicaPlacement(true, layout.Split(decision.NodeByStage), null));
        }
        return Task.FromResult(ReplicaPlacement.Refused(PlacementRefusal.WaitingForCapacity, $"No room for more than {running} replica(s) of job {jobId} on nodes of their own."));
    }
}
