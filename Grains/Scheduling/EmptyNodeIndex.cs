namespace Cluster.Grains.Scheduling;

/// <summary>
/// The empty nodes that take new stages, ordered the way <see cref="PlacementPolicy"/> prefers them: silo load
/// (stages its machine already hosts) ascending, then speed descending, then node id. Each silo keeps its empty
/// nodes in a fixed (speed, id) order with a cursor past the taken ones; the silos sit in a sorted set keyed by
/// (load, their best remaining node). Finding the best node that fits a stage is O(log silos) when the best silo's
/// best node fits, which is every time on a fleet of equal memory; nodes short of memory are skipped silo by silo.
/// </summary>
internal sealed class EmptyNodeIndex
{
    private readonly PlacementFleet _fleet;
    private readonly int[] _nodes;       // empty nodes grouped by silo, each group ordered by speed desc, then id
    private readonly int[] _groupStart;  // per silo: [start, end) in _nodes
    private readonly int[] _groupEnd;
    private readonly int[] _cursor;      // per silo: first position in its group not yet taken
    private readonly long[] _maxFree;    // per silo: most free memory among its remaining empty nodes
    private readonly bool[] _taken;      // per node
    private readonly bool[] _indexed;    // per node: empty and taking new stages when the index was built
    private readonly SortedSet<int> _silos;

    public EmptyNodeIndex(PlacementFleet fleet)
    {
        _fleet = fleet;
        int emptyCount = 0;
        for (int i = 0; i < fleet.Count; i++)
            if (fleet.IsEmptyAndAccepting(i)) emptyCount++;
        _nodes = new int[emptyCount];
        for (int i = 0, k = 0; i < fleet.Count; i++)
            if (fleet.IsEmptyAndAccepting(i)) _nodes[k++] = i;
        Array.Sort(_nodes, (a, b) => fleet.Silo[a] != fleet.Silo[b] ? fleet.Silo[a].CompareTo(fleet.Silo[b]) : Rank(a, b));

        int silos = fleet.SiloCount;
        _groupStart = new int[silos];
        _groupEnd = new int[silos];
        _cursor = new int[silos];
        _maxFree = new long[silos];
        _taken = new bool[fleet.Count];
        _indexed = new bool[fleet.Count];
        foreach (int node in _nodes) _indexed[node] = true;
        for (int k = 0; k < _nodes.Length;)
        {
            int silo = fleet.Silo[_nodes[k]], start = k;
            while (k < _nodes.Length && fleet.Silo[_nodes[k]] == silo) k++;
            _groupStart[silo] = _cursor[silo] = start;
            _groupEnd[silo] = k;
            RefreshMaxFree(silo);
        }
        _silos = new SortedSet<int>(Comparer<int>.Create(CompareSilos));
        for (int s = 0; s < silos; s++)
            if (HasEmpty(s)) _silos.Add(s);
    }

    /// <summary>The best empty node with at least <paramref name="memory"/> bytes free, or -1 when none has.</summary>
    public int Best(long memory)
    {
        if (_silos.Count == 0) return -1;
        int first = _silos.Min;
        int head = _nodes[_cursor[first]];
        // Every other silo sorts after this one and every node of a silo after its head: nothing can beat it.
        if (_fleet.Free[head] >= memory) return head;

        int best = -1, bestLoad = 0;
        foreach (int silo in _silos)
        {
            int siloHead = _nodes[_cursor[silo]];
            if (best >= 0 && (_fleet.SiloLoad[silo] > bestLoad || Rank(siloHead, best) > 0)) break;
            if (_maxFree[silo] < memory) continue;
            int candidate = FirstFitting(silo, memory);
            if (best < 0 || Rank(candidate, best) < 0)
            {
                best = candidate;
                bestLoad = _fleet.SiloLoad[silo];
            }
        }
        return best;
    }

    /// <summary>Call before a stage goes to a node of <paramref name="silo"/>: the silo's sort key is about to change.</summary>
    public void BeginChange(int silo)
    {
        if (HasEmpty(silo)) _silos.Remove(silo);
    }

    /// <summary>Call after the stage went to <paramref name="node"/> on <paramref name="silo"/> and its load was counted.</summary>
    public void EndChange(int silo, int node)
    {
        if (_indexed[node] && !_taken[node])
        {
            _taken[node] = true;
            while (_cursor[silo] < _groupEnd[silo] && _taken[_nodes[_cursor[silo]]]) _cursor[silo]++;
            RefreshMaxFree(silo);
        }
        if (HasEmpty(silo)) _silos.Add(silo);
    }

    private bool HasEmpty(int silo) => _cursor[silo] < _groupEnd[silo];

    private int FirstFitting(int silo, long memory)
    {
        for (int k = _cursor[silo]; k < _groupEnd[silo]; k++)
        {
            int node = _nodes[k];
            if (!_taken[node] && _fleet.Free[node] >= memory) return node;
        }
        throw new InvalidOperationException($"Silo {silo}'s free-memory bound is stale."); // unreachable: _maxFree says one fits
    }

    private void RefreshMaxFree(int silo)
    {
        long max = long.MinValue;
        for (int k = _cursor[silo]; k < _groupEnd[silo]; k++)
            if (!_taken[_nodes[k]]) max = Math.Max(max, _fleet.Free[_nodes[k]]);
        _maxFree[silo] = max;
    }

    /// <summary>Faster first, then the lower node id (the fleet's node indices follow ordinal id order).</summary>
    private int Rank(int a, int b)
    {
        int bySpeed = _fleet.Speed[b].CompareTo(_fleet.Speed[a]);
        return bySpeed != 0 ? bySpeed : a.CompareTo(b);
    }

    private int CompareSilos(int a, int b)
    {
        if (a == b) return 0;
        int byLoad = _fleet.SiloLoad[a].CompareTo(_fleet.SiloLoad[b]);
        return byLoad != 0 ? byLoad : Rank(_nodes[_cursor[a]], _nodes[_cursor[b]]);
    }
}
