using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

internal sealed partial class SchedulerGrain
{
    /// <summary>
    /// Data-parallel jobs: the largest allowed replica count whose stages all get a node of their own (more replicas
    /// on shared nodes would add no speed), survivors kept where they are; when none does, the smallest count, packed
    /// if need be. The smallest count is the gang: the job gets all of it or nothing, and only it may preempt.
    /// </summary>
    public async Task<ReplicaPlacement> PlaceReplicas(string jobId, ReplicaRequest request)
    {
        if (RequestProblem(request) is { } problem)
            return ReplicaPlacement.Refused(problem);
        int[] counts = [.. request.ReplicaCounts.Distinct().OrderDescending()];
        bool replicated = counts[0] > 1;
        var minimum = ReplicaLayout.For(request.Stages, counts[^1], request.Current, _ => false);
        ReplicaLayout? chosen = null;
        var choice = await Admit(jobId, minimum.Demands, minimum.Preferred, (candidates, ticket) =>
        {
            var usable = candidates.Select(c => c.NodeId).ToHashSet(StringComparer.Ordinal);
            foreach (int count in counts)
            {
                var layout = ReplicaLayout.For(request.Stages, count, request.Current, usable.Contains);
                var decision = PlacementPolicy.Place(layout.Demands, candidates, layout.Preferred);
                bool last = count == counts[^1];
                if (!decision.Placed)
                {
                    if (last) return new Choice(decision, layout.Demands, [], MayPreempt: !CannotFit(decision));
                    continue;
                }
                if (!last && decision.NodeByStage.Distinct(StringComparer.Ordinal).Count() < decision.NodeByStage.Count)
                    continue; // this many replicas only by sharing nodes: fewer, on nodes of their own, step as fast
                if (QuotaProblem(ticket, decision.NodeByStage) is { } quota)
                {
                    if (last) return new Choice(PlacementDecision.Refused(quota), layout.Demands, [], MayPreempt: false);
                    continue;
                }
                chosen = layout;
                return new Choice(decision, layout.Demands, layout.Labels(replicated), MayPreempt: false);
            }
            throw new InvalidOperationException("No replica count was tried."); // counts is never empty
        });
        return choice.Decision.Placed && chosen is not null
            ? new ReplicaPlacement(true, chosen.Split(choice.Decision.NodeByStage), null)
            : ReplicaPlacement.Refused(choice.Decision.Reason ?? "not placed");
    }

    /// <summary>
    /// Growth onto free nodes, never at anyone's expense: refused while another job waits for nodes and would fit in
    /// what is free (it goes first), and refused unless every current replica keeps its nodes.
    /// </summary>
    public Task<ReplicaPlacement> ProposeMoreReplicas(string jobId, ReplicaRequest request)
    {
        if (RequestProblem(request) is { } problem)
            return Task.FromResult(ReplicaPlacement.Refused(problem));
        if (!_jobs.ContainsKey(jobId))
            return Task.FromResult(ReplicaPlacement.Refused($"Job {jobId} holds no placement."));
        int running = request.Current.Count;
        int[] larger = [.. request.ReplicaCounts.Where(c => c > running).Distinct().OrderDescending()];
        if (larger.Length == 0)
            return Task.FromResult(ReplicaPlacement.Refused($"Job {jobId} already runs its most replicas ({running})."));
        var free = Candidates();
        if (Queue().FirstOrDefault(w => w.Ticket.JobId != jobId && PlacementPolicy.Place(w.Demands, free, []).Placed) is { } waiting)
            return Task.FromResult(ReplicaPlacement.Refused($"Job {waiting.Ticket.JobId} is waiting for nodes and goes first."));
        var candidates = Candidates(excludingJob: jobId);
        var usable = candidates.Select(c => c.NodeId).ToHashSet(StringComparer.Ordinal);
        var ticket = Ticket(jobId);
        foreach (int count in larger)
        {
            var layout = ReplicaLayout.For(request.Stages, count, request.Current, usable.Contains);
            var decision = PlacementPolicy.Place(layout.Demands, candidates, layout.Preferred);
            if (!decision.Placed
                || decision.NodeByStage.Distinct(StringComparer.Ordinal).Count() < decision.NodeByStage.Count
                || layout.Preferred.Where((node, i) => node.Length > 0 && decision.NodeByStage[i] != node).Any()
                || QuotaProblem(ticket, decision.NodeByStage) is not null)
                continue;
            return Task.FromResult(new ReplicaPlacement(true, layout.Split(decision.NodeByStage), null));
        }
        return Task.FromResult(ReplicaPlacement.Refused($"No room for more than {running} replica(s) of job {jobId} on nodes of their own."));
    }

    private static string? RequestProblem(ReplicaRequest request)
    {
        if (request is null) return "The replica request is missing.";
        if (request.Stages is null || request.Stages.Count == 0) return "The replica request has no stages to place.";
        if (request.ReplicaCounts is null || request.ReplicaCounts.Count == 0 || request.ReplicaCounts.Any(c => c < 1))
            return "The replica request needs at least one replica count, each 1 or more.";
        return null;
    }
}
