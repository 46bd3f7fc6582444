using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// Elastic scale-up, decided: a faster placement for a running job on <paramref name="candidates"/> (nodes that
/// joined, with what other jobs leave free), keeping one of its stages per node where it is, so only stages that share
/// a node spread out. Kept to one device kind unless the job's spec allows mixing (<see cref="JobNodes.MixedDevices"/>).
/// Refused unless the expected step time gains at least <paramref name="minGain"/>. Pure.
/// </summary>
internal static class ScaleUpProposal
{
    public static PlacementDecision Propose(string jobId, JobNodes job, IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> candidates, double minGain)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(candidates);
        double now = PlacementPolicy.BottleneckSeconds(stages, job.Nodes, candidates);
        if (double.IsPositiveInfinity(now))
            return PlacementDecision.Refused(PlacementRefusal.NoImprovement, $"Job {jobId} runs on a node that is no longer usable: it recovers first.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[] keep = [.. job.Nodes.Select(n => seen.Add(n) ? n : "")];
        var proposal = PlacementPolicy.Place(stages, candidates, keep, job.MixedDevices);
        if (!proposal.Placed)
            return proposal;
        double then = PlacementPolicy.BottleneckSeconds(stages, proposal.NodeByStage, candidates);
        double gain = now / then - 1;
        return gain >= minGain
            ? proposal
            : PlacementDecision.Refused(PlacementRefusal.NoImprovement, $"No faster placement: the best expected gain is {gain:P0}, below the {minGain:P0} threshold.");
    }
}
