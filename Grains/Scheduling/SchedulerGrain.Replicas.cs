using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

internal sealed partial class SchedulerGrain
{
    /// <summary>
    /// Data-parallel jobs: the largest allowed replica count whose stages all get a node of their own (more replicas
    /// on shared nodes would add no speed), survivors kept where they are. The smallest count is the gang: the job gets
    /// all of it or nothing, and only it may preempt; a single replica may pack its stages onto fewer nodes.
    /// </summary>
    public async Task<ReplicaPlacement> PlaceReplicas(string jobId, ReplicaRequest request)
    {
        if (RequestProblem(request) is { } problem)
            return ReplicaPlacement.Refused(PlacementRefusal.InvalidRequest, problem);
        int[] counts = [.. request.ReplicaCounts.Distinct().OrderDescending()];
        bool replicated = counts[0] > 1;
        var minimum = ReplicaLayout.For(request.Stages, counts[^1], request.Current, _ => false);
        ReplicaLayout? chosen = null;
        var choice = await Admit(new AdmissionRequest(jobId, minimum.Demands, minimum.Preferred, counts[^1] > 1, request.Stages.Count, counts, request.Epoch, (candidates, ticket) =>
        {
            var usable = candidates.Select(c => c.NodeId).ToHashSet(StringComparer.Ordinal);
            foreach (int count in counts)
            {
                var layout = ReplicaLayout.For(request.Stages, count, request.Current, usable.Contains);
                var decision = PlacementPolicy.Place(layout.Demands, candidates, layout.Preferred);
                bool last = count == counts[^1];
                if (!decision.Placed)
                {
                    if (last) return new PlacementChoice(decision, layout.Demands, [], MayPreempt: decision.Refusal != PlacementRefusal.CannotFit);
                    continue;
                }
                if (count > 1 && !SchedulerTable.OnOwnNodes(decision))
                {
                    // Replicas sharing nodes would add no speed: fewer, on nodes of their own, step as fast. A job's
                    // minimum of several replicas is a gang of that many nodes per stage, so it waits instead.
                    if (last) return new PlacementChoice(PlacementDecision.Refused(PlacementRefusal.WaitingForCapacity,
                        $"{count} replicas × {request.Stages.Count} stages need {count * request.Stages.Count} nodes of their own; {usable.Count} are free."), layout.Demands, [], MayPreempt: true);
                    continue;
                }
                if (QuotaProblem(ticket, decision.NodeByStage) is { } quota)
                {
                    if (last) return new PlacementChoice(PlacementDecision.Refused(PlacementRefusal.OverQuota, quota), layout.Demands, [], MayPreempt: false);
                    continue;
                }
                chosen = layout;
                return new PlacementChoice(decision, layout.Demands, layout.Labels(replicated), MayPreempt: false);
            }
            throw new InvalidOperationException("No replica count was tried."); // counts is never empty
        }));
        return choice.Decision.Placed && chosen is not null
            ? new ReplicaPlacement(true, chosen.Split(choice.Decision.NodeByStage), null)
            : ReplicaPlacement.Refused(choice.Decision.Refusal, choice.Decision.Reason ?? "not placed");
    }

    /// <summary>
    /// Growth onto free nodes, never at anyone's expense: refused while another job of the same or higher priority
    /// waits for nodes, or a lower-priority one would fit in what is free, and unless every current replica keeps its nodes.
    /// </summary>
    public Task<ReplicaPlacement> ProposeMoreReplicas(string jobId, ReplicaRequest request)
    {
        if (RequestProblem(request) is { } problem)
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
            var decision = PlacementPolicy.Place(layout.Demands, candidates, layout.Preferred);
            if (!decision.Placed
                || !SchedulerTable.OnOwnNodes(decision)
                || layout.Preferred.Where((node, i) => node.Length > 0 && decision.NodeByStage[i] != node).Any()
                || QuotaProblem(ticket, decision.NodeByStage) is not null)
                continue;
            return Task.FromResult(new ReplicaPlacement(true, layout.Split(decision.NodeByStage), null));
        }
        return Task.FromResult(ReplicaPlacement.Refused(PlacementRefusal.WaitingForCapacity, $"No room for more than {running} replica(s) of job {jobId} on nodes of their own."));
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
