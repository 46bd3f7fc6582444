using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// One job, one device kind: a CPU and a CUDA device compute the same step to different bits (other kernels, other
/// reduction orders), so a job whose stages or replicas span both can no longer be bit-identical to its reference. The
/// rule picks, among the candidate nodes, the nodes of one kind to place a job on; a job spec that opts in
/// (<c>devicePlacement: "mixed"</c>) gives up bit-identity and may use every node. Pure and deterministic.
/// </summary>
public static class DeviceKinds
{
    /// <summary>The kind of a torch device name: "cpu" for "cpu", "cuda" for "cuda:1"; lower case; "" when not stated.</summary>
    public static string KindOf(string? device)
    {
        if (string.IsNullOrWhiteSpace(device)) return "";
        string d = device.Trim();
        int colon = d.IndexOf(':', StringComparison.Ordinal);
        return (colon >= 0 ? d[..colon] : d).ToLowerInvariant();
    }

    /// <summary>
    /// The candidate sets to try, in order: all nodes in one set when <paramref name="mixedAllowed"/> or every node is
    /// of one kind; else one set per kind — first the kind that hosts most of the <paramref name="preferred"/> nodes
    /// (a running job stays on its kind), then the kind with the most GFLOP/s, then by name.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<PlacementCandidate>> Choices(IReadOnlyList<PlacementCandidate> nodes, IReadOnlyList<string> preferred, bool mixedAllowed)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(preferred);
        var kinds = nodes.GroupBy(n => n.DeviceKind, StringComparer.Ordinal).ToArray();
        if (mixedAllowed || kinds.Length <= 1) return [nodes];
        var kindOfNode = nodes.ToDictionary(n => n.NodeId, n => n.DeviceKind, StringComparer.Ordinal);
        var preferredCount = preferred.Where(kindOfNode.ContainsKey).GroupBy(id => kindOfNode[id], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return [.. kinds
            .OrderByDescending(g => preferredCount.GetValueOrDefault(g.Key))
            .ThenByDescending(g => g.Sum(n => n.Gigaflops))
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (IReadOnlyList<PlacementCandidate>)[.. g])];
    }

    /// <summary>
    /// Places on the first set of <paramref name="choices"/> that takes every stage. When none does, the refusal of the
    /// first set that is only waiting for room (else of the first set), saying that the job keeps to one device kind.
    /// </summary>
    public static PlacementDecision PlaceOnOneKind(IReadOnlyList<IReadOnlyList<PlacementCandidate>> choices, Func<IReadOnlyList<PlacementCandidate>, PlacementDecision> place)
    {
        ArgumentNullException.ThrowIfNull(choices);
        ArgumentNullException.ThrowIfNull(place);
        if (choices.Count == 0) throw new ArgumentException("No candidate set to place on.", nameof(choices));
        var refusals = new List<PlacementDecision>(choices.Count);
        foreach (var choice in choices)
        {
            var decision = place(choice);
            if (decision.Placed) return decision;
            refusals.Add(decision);
        }
        var refusal = refusals.FirstOrDefault(r => r.Refusal != PlacementRefusal.CannotFit) ?? refusals[0];
        string kinds = string.Join(", ", choices.Select(c => Label(c[0].DeviceKind)));
        return refusal with
        {
            Reason = $"{refusal.Reason} (A job's stages all run on one device kind, and none of {kinds} takes them all; a spec with devicePlacement 'mixed' may use several kinds but is no longer bit-identical.)",
        };
    }

    private static string Label(string kind) => kind.Length == 0 ? "unstated" : kind;
}
