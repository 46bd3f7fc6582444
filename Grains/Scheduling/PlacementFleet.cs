namespace Cluster.Grains.Scheduling;

/// <summary>
/// The candidate nodes of one placement decision as flat arrays, indexed in ordinal node-id order (the policy's
/// tie-break), with what the decision has put on each so far.
/// </summary>
internal sealed class PlacementFleet
{
    private readonly string[] _ids;

    private PlacementFleet(IReadOnlyList<PlacementCandidate> nodes)
    {
        int n = nodes.Count;
        _ids = new string[n];
        var order = new int[n];
        bool sorted = true;
        for (int i = 0; i < n; i++)
        {
            _ids[i] = nodes[i].NodeId;
            order[i] = i;
            if (i > 0 && string.CompareOrdinal(_ids[i - 1], _ids[i]) > 0) sorted = false;
        }
        // Schedulers usually list nodes in id order already; checking is O(n), sorting is O(n log n) string compares.
        if (!sorted) Array.Sort(_ids, order, StringComparer.Ordinal);

        Nodes = new PlacementCandidate[n];
        Silo = new int[n];
        Speed = new double[n];
        Free = new long[n];
        Hosted = new int[n];
        Cost = new double[n];
        var silos = new Dictionary<string, int>(StringComparer.Ordinal);
        var loads = new List<int>();
        for (int i = 0; i < n; i++)
        {
            var node = nodes[order[i]];
            Nodes[i] = node;
            if (!silos.TryGetValue(node.SiloName, out int silo))
            {
                silo = silos.Count;
                silos.Add(node.SiloName, silo);
                loads.Add(0);
            }
            Silo[i] = silo;
            loads[silo] += node.StagesAlreadyHosted;
            Speed[i] = Math.Max(node.Gigaflops, 1e-9);
            Free[i] = node.FreeMemoryBytes;
            Hosted[i] = node.StagesAlreadyHosted;
        }
        SiloLoad = [.. loads];
    }

    public PlacementCandidate[] Nodes { get; }
    public int Count => Nodes.Length;
    public int[] Silo { get; }
    public int SiloCount => SiloLoad.Length;

    /// <summary>Stages hosted on each silo's nodes: those already there plus those this decision put there.</summary>
    public int[] SiloLoad { get; }

    /// <summary>GFLOP/s, floored at 1e-9 so that finishing times stay finite.</summary>
    public double[] Speed { get; }

    public long[] Free { get; }
    public int[] Hosted { get; }

    /// <summary>Cost of the stages this decision put on each node.</summary>
    public double[] Cost { get; }

    /// <summary>The fleet, or the reason its description is unusable.</summary>
    public static (PlacementFleet? Fleet, string? Problem) Create(IReadOnlyList<PlacementCandidate> nodes)
    {
        foreach (var node in nodes)
        {
            if (node is null) return (null, "A candidate node is null.");
            if (double.IsNaN(node.Gigaflops))
                return (null, $"Node {node.NodeId} reports its speed as NaN GFLOP/s: calibrate it again.");
        }
        var fleet = new PlacementFleet(nodes);
        for (int i = 1; i < fleet.Count; i++)
            if (string.Equals(fleet._ids[i - 1], fleet._ids[i], StringComparison.Ordinal))
                return (null, $"Node {fleet._ids[i]} is listed twice: each candidate node must be listed once.");
        return (fleet, null);
    }

    public bool IsAccepting(int node) => Nodes[node].AcceptsNewStages;

    public bool IsEmptyAndAccepting(int node) => Hosted[node] == 0 && Nodes[node].AcceptsNewStages;

    /// <summary>The index of a node id, or -1.</summary>
    public int IndexOf(string? nodeId) => nodeId is null ? -1 : Math.Max(-1, Array.BinarySearch(_ids, nodeId, StringComparer.Ordinal));
}
