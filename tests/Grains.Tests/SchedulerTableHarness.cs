using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Scheduling;

namespace Cluster.Grains.Tests;

/// <summary>
/// Drives the scheduler's pure decision core (<see cref="SchedulerTable"/>) as the grain does — decide, apply, check the
/// invariant — with a clock and a fleet the test controls.
/// </summary>
internal sealed class SchedulerTableHarness
{
    private readonly HashSet<string> _activeSilos = new(StringComparer.Ordinal);
    private long _sequence;

    public SchedulerTableHarness(bool exclusiveNodes = true, TimeSpan? releaseTimeout = null, TimeSpan? silentJobHold = null)
    {
        var rules = new SchedulerRules(exclusiveNodes, TimeSpan.FromSeconds(5), releaseTimeout ?? TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10),
            silentJobHold ?? new TrainingClusterOptions().SchedulerSilentJobHold);
        Table = new SchedulerTable(rules, () => Quotas);
    }

    /// <summary>
    /// Jobs whose stages still run on their nodes but that the table does not hold since <see cref="Restart"/> (they
    /// have not reported yet): the nodes' heartbeats keep listing their stages.
    /// </summary>
    public Dictionary<string, JobNodes> Silent { get; } = new(StringComparer.Ordinal);

    public SchedulerTable Table { get; }

    public Dictionary<string, int> Quotas { get; } = new(StringComparer.Ordinal);

    public DateTimeOffset Now { get; private set; } = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    /// <summary>A node joins (or comes back) and heartbeats: it is placeable.</summary>
    public void Join(string nodeId, long memoryBytes = 1L << 30, double gigaflops = 10)
    {
        string silo = nodeId.Split('/')[0];
        _activeSilos.Add(silo);
        var capabilities = new NodeCapabilities(nodeId, silo, "cpu", memoryBytes, gigaflops, 1);
        Table.Nodes[nodeId] = new NodeRecord(capabilities, Health(nodeId), Now);
    }

    /// <summary>A node stops heartbeating (its device hung, its silo died): not placeable; its stages stay in the table until their jobs move.</summary>
    public void Lose(string nodeId) => Table.Nodes[nodeId] = Table.Nodes[nodeId] with { LastHeartbeat = Now - TimeSpan.FromHours(1) };

    /// <summary>
    /// The scheduler restarts: its table's rows, waits and requests are gone, every placed job is unreported (the
    /// registry lists it), and its stages keep running — so the nodes keep reporting them.
    /// </summary>
    public void Restart()
    {
        foreach (var (job, row) in Table.Jobs)
        {
            Silent[job] = row;
            Table.Unreported[job] = Now;
        }
        Table.Jobs.Clear();
        Table.Waiting.Clear();
        Table.Pending.Clear();
        Report();
    }

    /// <summary>A silent job answers (or asks first): its placement is adopted unless it conflicts with rows placed since. True when adopted.</summary>
    public bool Answer(string jobId)
    {
        if (!Silent.Remove(jobId, out var row) || !Table.Unreported.Remove(jobId)) return false;
        bool adopted = Table.Adopt(jobId, row).Count == 0;
        Report();
        AssertInvariant();
        return adopted;
    }

    /// <summary>Every node heartbeats what it runs now: the stages of the table's rows and of silent jobs.</summary>
    private void Report()
    {
        foreach (var (id, node) in Table.Nodes.ToArray())
            if (node.Health is { } health)
                Table.Nodes[id] = node with { Health = health with { Occupants = Occupants(id) } };
    }

    private NodeOccupant[] Occupants(string nodeId) =>
        [.. Table.Jobs.Concat(Silent).SelectMany(j => j.Value.Nodes.Select((node, s) => (j.Key, j.Value, node, s)))
            .Where(x => x.node == nodeId)
            .Select(x => new NodeOccupant(x.Key, x.Value.Epoch, x.s / x.Value.StagesPerReplica, x.s % x.Value.StagesPerReplica))];

    public void Drain(string nodeId) => Table.Nodes[nodeId] = Table.Nodes[nodeId] with { Cordoned = true, Draining = true };

    /// <summary>Cordons the node (it keeps its stages, takes no new ones), or opens it again.</summary>
    public void Cordon(string nodeId, bool cordoned) => Table.Nodes[nodeId] = Table.Nodes[nodeId] with { Cordoned = cordoned, Draining = false };

    /// <summary>Time passes; live nodes keep heartbeating.</summary>
    public void Advance(TimeSpan by)
    {
        Now += by;
        foreach (var (id, node) in Table.Nodes.ToArray())
            if (node.LastHeartbeat is { } seen && Now - by - seen <= Table.Rules.NodeTimeout)
                Table.Nodes[id] = node with { Health = Health(id), LastHeartbeat = Now };
    }

    public void Enqueue(string jobId, int priority = 0, string team = "default") =>
        Table.Tickets[jobId] = new JobTicket(jobId, priority, team, Now + TimeSpan.FromTicks(Table.Tickets.Count));

    /// <summary>One ask, decided and applied like the grain does; the invariant must hold after it.</summary>
    public (ReplicaPlacement Placement, IReadOnlyList<PendingRelease> Requests) Place(string jobId, ReplicaRequest request)
    {
        var (admission, split) = ReplicaAdmission.For(jobId, request, Table);
        var decided = Table.Decide(admission, Now, _activeSilos);
        var broken = SchedulerInvariant.PlacedOnHeldBack(Table, decided, Now).Concat(SchedulerInvariant.PlacedOnClosed(Table, decided)).ToList();
        Assert.True(broken.Count == 0, string.Join("; ", broken));
        var requests = Table.Apply(decided, Now);
        Report();
        AssertInvariant();
        var decision = decided.Choice.Decision;
        return (decision.Placed ? new ReplicaPlacement(true, split(decision), decision.Reason) : ReplicaPlacement.Refused(decision.Refusal, decision.Reason ?? ""), requests);
    }

    /// <summary>A job of <paramref name="stages"/> stages of <paramref name="memoryBytes"/> each, one replica (or the counts given), where it runs now.</summary>
    public (ReplicaPlacement Placement, IReadOnlyList<PendingRelease> Requests) Place(string jobId, int stages, long memoryBytes = 1L << 20,
        IReadOnlyList<int>? counts = null, IReadOnlyList<ReplicaNodes>? current = null, long epoch = 0) =>
        Place(jobId, new ReplicaRequest([.. Enumerable.Range(0, stages).Select(s => new StageDemand(s, memoryBytes, 1))], counts ?? [1], current ?? Current(jobId)) { Epoch = epoch });

    /// <summary>The job's replicas as the table holds them (what the job would send as its current placement).</summary>
    public IReadOnlyList<ReplicaNodes> Current(string jobId)
    {
        if (!Table.Jobs.TryGetValue(jobId, out var row)) return [];
        return [.. Enumerable.Range(0, row.Replicas).Select(r => new ReplicaNodes(r, [.. row.Nodes.Skip(r * row.StagesPerReplica).Take(row.StagesPerReplica)]))];
    }

    public void Release(string jobId)
    {
        Table.Release(jobId);
        Silent.Remove(jobId); // its stages left with it
        Report();
        AssertInvariant();
    }

    public void AssertInvariant()
    {
        var problems = SchedulerInvariant.Problems(Table);
        Assert.True(problems.Count == 0, string.Join("; ", problems));
    }

    private NodeHealth Health(string nodeId) => new(nodeId, NodeState.Ready, ++_sequence, 1, 1, 0, 0, null, Now, 0) { Occupants = Occupants(nodeId) };
}
