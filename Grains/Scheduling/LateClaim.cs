using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// What a job that never answered the scheduler's rebuild holds, read from its first ask to be placed (see
/// <c>SchedulerGrain.AdoptLate</c>). Pure.
/// </summary>
internal static class LateClaim
{
    /// <summary>
    /// The replicas to adopt: those of the request's <see cref="ReplicaRequest.Held"/> (from a job that does not send
    /// it, <see cref="ReplicaRequest.Current"/>) with a node for every stage. A blank stage — a move leaves the node it
    /// names blank, though the stage still runs there — is filled from the node that reports running that stage of the
    /// job (its newest epoch). A replica with a stage still blank is left out: no live node reports that stage, so its
    /// node is gone or unknown, and not placeable anyway.
    /// </summary>
    public static ReplicaNodes[] Replicas(string jobId, ReplicaRequest request, IEnumerable<NodeRecord> nodes)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(nodes);
        int stages = request.Stages.Count;
        var source = request.Held.Count > 0 ? request.Held : request.Current;
        var reported = nodes
            .SelectMany(n => (n.Health?.Occupants ?? []).Where(o => o.JobId == jobId).Select(o => (Occupant: o, Node: n.Capabilities.NodeId)))
            .GroupBy(x => (x.Occupant.Replica, x.Occupant.Stage))
            .ToDictionary(g => g.Key, g => g.MaxBy(x => x.Occupant.Epoch).Node);
        var held = new List<ReplicaNodes>();
        foreach (var replica in source.Where(r => r.Nodes.Count == stages).OrderBy(r => r.Replica))
        {
            string[] filled = [.. replica.Nodes.Select((node, s) => !string.IsNullOrEmpty(node) ? node : reported.GetValueOrDefault((replica.Replica, s)) ?? "")];
            if (filled.All(node => node.Length > 0)) held.Add(replica with { Nodes = filled });
        }
        return [.. held];
    }
}
