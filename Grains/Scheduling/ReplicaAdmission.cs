using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// A <see cref="ReplicaRequest"/> as an <see cref="AdmissionRequest"/> for <see cref="SchedulerTable.Decide"/>: the
/// largest allowed replica count whose stages all get a node of their own (more replicas on shared nodes would add no
/// speed), survivors kept where they are. The smallest count is the gang: the job gets all of it or nothing, and only
/// it may make room; a single replica may pack its stages onto fewer nodes. Changes no table.
/// </summary>
internal static class ReplicaAdmission
{
    /// <summary>
    /// The admission for a valid request (see <see cref="Problem"/>), and how to split a placement it chose back into
    /// replicas. <paramref name="table"/> answers quota questions only.
    /// </summary>
    public static (AdmissionRequest Request, Func<PlacementDecision, IReadOnlyList<ReplicaNodes>> Split) For(string jobId, ReplicaRequest request, SchedulerTable table)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(table);
        int[] counts = [.. request.ReplicaCounts.Distinct().OrderDescending()];
        bool replicated = counts[0] > 1;
        var minimum = ReplicaLayout.For(request.Stages, counts[^1], request.Current, _ => false);
        ReplicaLayout? chosen = null;
        var admission = new AdmissionRequest(jobId, minimum.Demands, minimum.Preferred, counts[^1] > 1, request.Stages.Count, counts, request.Epoch, (candidates, ticket) =>
        {
            var usable = candidates.Select(c => c.NodeId).ToHashSet(StringComparer.Ordinal);
            string? largestMissed = null; // why the largest count did not fit, when a smaller one is chosen
            foreach (int count in counts)
            {
                var layout = ReplicaLayout.For(request.Stages, count, request.Current, usable.Contains);
                var decision = PlacementPolicy.Place(layout.Demands, candidates, layout.Preferred, request.MixedDevices);
                bool last = count == counts[^1];
                if (!decision.Placed)
                {
                    if (last) return new PlacementChoice(decision, layout.Demands, [], MayPreempt: decision.Refusal != PlacementRefusal.CannotFit);
                    largestMissed ??= $"{count} replicas did not fit: {decision.Reason}";
                    continue;
                }
                if (count > 1 && !SchedulerTable.OnOwnNodes(decision))
                {
                    // Replicas sharing nodes would add no speed: fewer, on nodes of their own, step as fast. A job's
                    // minimum of several replicas is a gang of that many nodes per stage, so it waits instead.
                    string ownNodes = $"{count} replicas × {request.Stages.Count} stages need {count * request.Stages.Count} nodes of their own; {usable.Count} are free.";
                    if (last) return new PlacementChoice(PlacementDecision.Refused(PlacementRefusal.WaitingForCapacity, ownNodes), layout.Demands, [], MayPreempt: true);
                    largestMissed ??= ownNodes;
                    continue;
                }
                if (table.QuotaProblem(ticket, decision.NodeByStage) is { } quota)
                {
                    if (last) return new PlacementChoice(PlacementDecision.Refused(PlacementRefusal.OverQuota, quota), layout.Demands, [], MayPreempt: false);
                    largestMissed ??= quota;
                    continue;
                }
                chosen = layout;
                // A placed decision's reason says why it has fewer replicas than the most asked for (null: it has the most).
                return new PlacementChoice(decision with { Reason = largestMissed }, layout.Demands, layout.Labels(replicated), MayPreempt: false);
            }
            throw new InvalidOperationException("No replica count was tried."); // counts is never empty
        }) { MixedDevices = request.MixedDevices };
        return (admission, decision => chosen is null
            ? throw new InvalidOperationException("No placement was chosen: split only a placed decision.")
            : chosen.Split(decision.NodeByStage));
    }

    /// <summary>What is wrong with the request, or null.</summary>
    public static string? Problem(ReplicaRequest request)
    {
        if (request is null) return "The replica request is missing.";
        if (request.Stages is null || request.Stages.Count == 0) return "The replica request has no stages to place.";
        if (request.ReplicaCounts is null || request.ReplicaCounts.Count == 0 || request.ReplicaCounts.Any(c => c < 1))
            return "The replica request needs at least one replica count, each 1 or more.";
        return null;
    }
}
