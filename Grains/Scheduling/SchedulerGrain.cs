using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// Knows every node (capabilities, latest heartbeat) and which job's stages run where; places stages with
/// <see cref="PlacementPolicy"/>, using only nodes that prove alive (see <see cref="IsPlaceable"/>): a heartbeat within
/// <see cref="TrainingClusterOptions.NodeTimeout"/>, an active silo, and none since a job reported them unreachable. Its state is soft: after a restart nodes re-register on their next heartbeat and
/// jobs re-place, so it needs no storage.
/// </summary>
[Reentrant]
internal sealed partial class SchedulerGrain(
    [PersistentState("scheduler", StorageNames.Jobs)] IPersistentState<SchedulerState> persisted,
    IOptions<TrainingClusterOptions> options,
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<SchedulerGrain> logger)
    : Grain, ISchedulerGrain
{
    private readonly Dictionary<string, NodeRecord> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobNodes> _jobs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lost = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobTicket> _tickets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WaitingJob> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<string> _preempting = new(StringComparer.Ordinal); // asked to give their nodes back
    private readonly Dictionary<string, int> _shrinking = new(StringComparer.Ordinal); // asked to run this many replicas

    /// <summary>Nodes a job reported unreachable, with when: not placeable until a newer heartbeat arrives (see <see cref="IsPlaceable"/>).</summary>
    private readonly Dictionary<string, DateTimeOffset> _unreachable = new(StringComparer.Ordinal);

    /// <summary>
    /// A placed job's node, memory and label ("s1", "r2/s1") per flat stage index (rank by rank), its stages per replica
    /// and the replica counts it can run with (descending; a job that is not elastic has just one).
    /// </summary>
    private sealed record JobNodes(string[] Nodes, long[] Memory, string[] Labels, int StagesPerReplica, IReadOnlyList<int> Counts)
    {
        public int Replicas => Nodes.Length / StagesPerReplica;
    }

    /// <summary>What a placement attempt chose: the decision, the flat demands it was for, their labels, and whether a refusal may preempt.</summary>
    private sealed record Choice(PlacementDecision Decision, IReadOnlyList<StageDemand> Demands, IReadOnlyList<string> Labels, bool MayPreempt);

    /// <summary>A job that asked for nodes and was refused; it asks again about every second while it waits (with the demands of its minimum).</summary>
    private sealed record WaitingJob(JobTicket Ticket, IReadOnlyList<StageDemand> Demands, DateTimeOffset Since, DateTimeOffset LastAsk, string Reason)
    {
        /// <summary>Its minimum needs a node per stage (several replicas); else its stages may share nodes.</summary>
        public bool OwnNodes { get; init; }

        public bool FitsIn(IReadOnlyList<PlacementCandidate> candidates) => Fits(Demands, candidates, [], OwnNodes);
    }

    /// <summary>Whether the stages can be placed — each on a node of its own when <paramref name="ownNodes"/>.</summary>
    private static bool Fits(IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> candidates, IReadOnlyList<string> preferred, bool ownNodes)
    {
        var decision = PlacementPolicy.Place(stages, candidates, preferred);
        return decision.Placed && (!ownNodes || OnOwnNodes(decision));
    }

    /// <summary>Every stage of the placement has a node to itself.</summary>
    private static bool OnOwnNodes(PlacementDecision decision) =>
        decision.NodeByStage.Distinct(StringComparer.Ordinal).Count() == decision.NodeByStage.Count;

    /// <summary>A waiting job that has not asked for this long has gone (paused, cancelled, its grain moving).</summary>
    private static readonly TimeSpan WaitingExpiry = TimeSpan.FromSeconds(10);
    private IGrainTimer? _watch;
    private DateTimeOffset _activatedAt;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        _watch = this.RegisterGrainTimer(Watch, new GrainTimerCreationOptions
        {
            DueTime = options.Value.HeartbeatPeriod,
            Period = options.Value.HeartbeatPeriod,
            Interleave = true,
            KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _watch?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Failure detection, two signals: heartbeats (a node silent for longer than NodeTimeout, or one that reports
    /// itself unhealthy) and Orleans membership (the node's silo is no longer active). Jobs using a lost node hear
    /// about it at once, so they abandon the step in flight instead of waiting for calls that will never return.
    /// </summary>
    private async Task Watch(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var active = ActiveSilos();
        foreach (var node in _nodes.Values.ToArray())
        {
            string id = node.Capabilities.NodeId;
            if (node.LastHeartbeat is not { } seen) continue; // still starting
            string? why = !active.Contains(node.Capabilities.SiloName) ? $"its silo '{node.Capabilities.SiloName}' left the cluster"
                : now - seen > options.Value.NodeTimeout ? $"no heartbeat for {(now - seen).TotalSeconds:F1} s"
                : node.Health is { State: NodeState.Unhealthy } h ? $"unhealthy after {h.ErrorCount} failed steps (last: {h.LastError})"
                : null;
            if (why is not null && _lost.Add(id))
            {
                LogNodeLost(logger, id, why);
                await this.Publish(new ClusterEvent(now, ClusterEventKind.NodeLost, null, id, 0, 0, 0, null, $"node {id} lost: {why}"));
                foreach (var (jobId, job) in _jobs.Where(j => j.Value.Nodes.Contains(id)).ToArray())
                {
                    try
                    {
                        await GrainFactory.GetGrain<ITrainingJobGrain>(jobId).NodesLost([id], why);
                    }
                    catch (Exception e)
                    {
                        LogNotifyFailed(logger, e, jobId); // the job finds out from its own failed calls anyway
                    }
                }
            }
            else if (why is null && _lost.Remove(id))
            {
                await this.Publish(new ClusterEvent(now, ClusterEventKind.NodeRecovered, null, id, 0, 0, 0, null, $"node {id} is healthy again"));
            }
        }
    }

    private HashSet<string> ActiveSilos() => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);

    public Task Register(NodeCapabilities capabilities)
    {
        bool known = _nodes.TryGetValue(capabilities.NodeId, out var existing);
        // A node registering again may be a fresh grain (its silo came back) whose heartbeat sequence starts over: the
        // old sequence must not make its new heartbeats look stale. Its last health stays until the next heartbeat, so
        // a routine re-registration never makes a node look unready.
        _nodes[capabilities.NodeId] = existing is null
            ? new NodeRecord(capabilities, null, null)
            : existing with { Capabilities = capabilities, Health = existing.Health is { } h ? h with { Sequence = 0 } : null };
        if (known) return Task.CompletedTask;
        LogRegistered(logger, capabilities.NodeId, capabilities.SiloName, capabilities.GigaflopsMeasured);
        return this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeJoined, null, capabilities.NodeId, 0, 0, 0, null,
            $"node {capabilities.NodeId} joined from silo {capabilities.SiloName} ({capabilities.GigaflopsMeasured:F1} GFLOP/s)"));
    }

    public Task<bool> Heartbeat(NodeHealth health)
    {
        if (!_nodes.TryGetValue(health.NodeId, out var record))
            return Task.FromResult(false);
        if (record.Health is null || health.Sequence > record.Health.Sequence)
        {
            _nodes[health.NodeId] = record with { Health = health, LastHeartbeat = time.GetUtcNow() };
            TrainingMetrics.Heartbeat(health.NodeId, time.GetUtcNow() - health.SentAt);
            // A heartbeat newer than any recorded before the report, received after it: the node proved alive again.
            if (_unreachable.Remove(health.NodeId, out var reportedAt))
                LogReachableAgain(logger, health.NodeId, (time.GetUtcNow() - reportedAt).TotalSeconds);
        }
        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<NodeInfo>> GetNodes()
    {
        var stagesByNode = _jobs.SelectMany(j => j.Value.Nodes.Select((node, stage) => (node, label: $"{j.Key}/{j.Value.Labels[stage]}")))
            .ToLookup(x => x.node, x => x.label, StringComparer.Ordinal);
        IReadOnlyList<NodeInfo> nodes = _nodes.Values
            .OrderBy(n => n.Capabilities.NodeId, StringComparer.Ordinal)
            .Select(n => Info(n, stagesByNode[n.Capabilities.NodeId].ToArray()))
            .ToArray();
        return Task.FromResult(nodes);
    }

    private NodeInfo Info(NodeRecord n, string[] stages) =>
        new(n.Capabilities, n.Health, n.LastHeartbeat, stages, n.Cordoned, n.Draining, n.Straggler, _lost.Contains(n.Capabilities.NodeId),
            _operatorReasons.GetValueOrDefault(n.Capabilities.NodeId));

    private NodeInfo Info(NodeRecord n) =>
        Info(n, [.. _jobs.SelectMany(j => j.Value.Nodes.Select((node, stage) => (node, label: $"{j.Key}/{j.Value.Labels[stage]}"))).Where(x => x.node == n.Capabilities.NodeId).Select(x => x.label)]);

    /// <summary>
    /// Gang placement (all stages or none) in priority order. A job that holds no nodes yet waits behind queued jobs
    /// that come first and fit now (higher priority; among equals the team holding fewer nodes, then first come);
    /// its team's quota must allow the nodes it would take; when the fleet is full, running jobs of lower priority
    /// are preempted (they checkpoint and free their nodes) if that makes room. A job already running (recovering or
    /// moving stages) is not held back by the queue.
    /// </summary>
    public async Task<PlacementDecision> Place(string jobId, IReadOnlyList<StageDemand> stages, IReadOnlyList<string> preferred)
    {
        string[] labels = [.. stages.OrderBy(d => d.Stage).Select(d => $"s{d.Stage}")];
        var choice = await Admit(jobId, stages, preferred, minimumOwnNodes: false, (Math.Max(1, stages.Count), [1]), (candidates, ticket) =>
        {
            var decision = PlacementPolicy.Place(stages, candidates, preferred);
            if (decision.Placed && QuotaProblem(ticket, decision.NodeByStage) is { } quota)
                return new Choice(PlacementDecision.Refused(quota), stages, labels, MayPreempt: false);
            return new Choice(decision, stages, labels, MayPreempt: !decision.Placed && !CannotFit(decision));
        });
        return choice.Decision;
    }

    private static bool CannotFit(PlacementDecision decision) => decision.Reason?.Contains("cannot fit", StringComparison.Ordinal) == true;

    /// <summary>
    /// The admission path every placement takes: the settle guard, the queue (a job not yet running waits behind jobs that
    /// come first and fit now), then <paramref name="choose"/> on the candidate nodes, then preemption for the job's
    /// <paramref name="minimum"/> when that was refused for lack of room. Records the placement or the wait.
    /// </summary>
    private async Task<Choice> Admit(string jobId, IReadOnlyList<StageDemand> minimum, IReadOnlyList<string> minimumPreferred, bool minimumOwnNodes,
        (int StagesPerReplica, IReadOnlyList<int> Counts) shape, Func<PlacementCandidate[], JobTicket, Choice> choose)
    {
        bool admitted = _jobs.Remove(jobId);
        _shrinking.Remove(jobId); // it places again now: a shrink it was asked for is done (or moot)
        // A scheduler that just (re)activated — its silo died, or the runtime deactivated it — knows only the nodes whose
        // heartbeat already came in; placing now would pack every stage onto those few. Every live node re-registers on
        // its next heartbeat and reports its health on the one after: wait that long.
        var settling = 3 * options.Value.HeartbeatPeriod;
        if (time.GetUtcNow() - _activatedAt < settling)
            return new Choice(PlacementDecision.Refused(
                $"the scheduler started {(time.GetUtcNow() - _activatedAt).TotalSeconds:F2} s ago; nodes re-register within {settling.TotalSeconds:F2} s"), minimum, [], false);
        var ticket = Ticket(jobId);
        var now = time.GetUtcNow();
        _waiting[jobId] = _waiting.TryGetValue(jobId, out var was)
            ? was with { Ticket = ticket, Demands = minimum, LastAsk = now, OwnNodes = minimumOwnNodes }
            : new WaitingJob(ticket, minimum, now, now, "") { OwnNodes = minimumOwnNodes };
        var candidates = Candidates();

        Choice choice;
        var ahead = admitted ? null : Queue().TakeWhile(w => w.Ticket.JobId != jobId)
            .FirstOrDefault(w => w.FitsIn(candidates));
        if (ahead is not null)
        {
            choice = new Choice(PlacementDecision.Refused($"Queued behind job {ahead.Ticket.JobId} (priority {ahead.Ticket.Priority}, team {ahead.Ticket.Team}), which goes first and fits now."), minimum, [], false);
        }
        else
        {
            choice = choose(candidates, ticket);
            if (choice.MayPreempt && await MakeRoom(ticket, minimum, minimumPreferred, minimumOwnNodes) is { } waitForRoom)
                choice = choice with { Decision = waitForRoom };
        }

        var decision = choice.Decision;
        if (decision.Placed)
        {
            _waiting.Remove(jobId);
            _jobs[jobId] = new JobNodes([.. decision.NodeByStage], [.. choice.Demands.OrderBy(s => s.Stage).Select(s => s.MemoryBytes)], [.. choice.Labels],
                shape.StagesPerReplica, shape.Counts);
            LogPlaced(logger, jobId, string.Join(", ", decision.NodeByStage.Select((n, s) => $"{choice.Labels[s]}→{n}")));
        }
        else
        {
            _waiting[jobId] = _waiting[jobId] with { Reason = decision.Reason ?? "" };
            LogRefused(logger, jobId, decision.Reason);
        }
        return choice;
    }

    private JobTicket Ticket(string jobId) =>
        _tickets.TryGetValue(jobId, out var ticket) ? ticket : new JobTicket(jobId, 0, "default", DateTimeOffset.MinValue);

    /// <summary>Waiting jobs still asking, in service order: priority, then the team holding fewer nodes, then first come.</summary>
    private List<WaitingJob> Queue()
    {
        var now = time.GetUtcNow();
        foreach (var gone in _waiting.Values.Where(w => now - w.LastAsk > WaitingExpiry).ToArray())
            _waiting.Remove(gone.Ticket.JobId);
        var usage = TeamNodes();
        return [.. _waiting.Values
            .OrderByDescending(w => w.Ticket.Priority)
            .ThenBy(w => usage.GetValueOrDefault(w.Ticket.Team))
            .ThenBy(w => w.Ticket.SubmittedAt)
            .ThenBy(w => w.Ticket.JobId, StringComparer.Ordinal)];
    }

    /// <summary>Distinct nodes each team's placed jobs hold.</summary>
    private Dictionary<string, int> TeamNodes(string? excludingJob = null) =>
        _jobs.Where(j => j.Key != excludingJob)
            .GroupBy(j => Ticket(j.Key).Team, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.SelectMany(j => j.Value.Nodes).Distinct(StringComparer.Ordinal).Count(), StringComparer.Ordinal);

    private string? QuotaProblem(JobTicket ticket, IReadOnlyList<string> nodeByStage)
    {
        if (!persisted.State.Quotas.TryGetValue(ticket.Team, out int max)) return null;
        var held = _jobs.Where(j => Ticket(j.Key).Team == ticket.Team).SelectMany(j => j.Value.Nodes).ToHashSet(StringComparer.Ordinal);
        int used = held.Count;
        held.UnionWith(nodeByStage);
        if (held.Count <= max) return null;
        int needs = nodeByStage.Distinct(StringComparer.Ordinal).Count();
        return needs > max
            ? $"Team '{ticket.Team}' quota is {max} node(s) but job {ticket.JobId} needs {needs}: raise the quota (quota set {ticket.Team} {needs}) or use fewer stages."
            : $"Team '{ticket.Team}' is at its quota: its jobs hold {used} of {max} node(s) and job {ticket.JobId} needs {needs} more. It waits until the team's jobs free nodes, or raise the quota (quota set {ticket.Team} N).";
    }

    /// <summary>
    /// Making room, gentlest first. Elastic jobs of the same or lower priority running more replicas than their minimum
    /// shrink (lowest priority, then most replicas first; each only as far as needed) — fair sharing: they give back
    /// surplus, keep training and grow again when nodes are free. If that is not enough, the fewest lower-priority
    /// running jobs (lowest priority, then newest first) are preempted: they checkpoint and free their nodes. The job is
    /// refused until the nodes are free.
    /// </summary>
    private async Task<PlacementDecision?> MakeRoom(JobTicket ticket, IReadOnlyList<StageDemand> stages, IReadOnlyList<string> preferred, bool ownNodes)
    {
        var freed = new HashSet<string>(_preempting.Where(_jobs.ContainsKey), StringComparer.Ordinal);
        var keeping = _shrinking.Where(j => _jobs.ContainsKey(j.Key)).ToDictionary(j => j.Key, j => j.Value * _jobs[j.Key].StagesPerReplica, StringComparer.Ordinal);
        bool FitsFreed() => Fits(stages, Candidates(freed, keeping), preferred, ownNodes);
        if ((freed.Count > 0 || keeping.Count > 0) && FitsFreed())
            return PlacementDecision.Refused($"Waiting for job(s) {string.Join(", ", freed.Concat(keeping.Keys))} to shrink or checkpoint and free their nodes.");

        var elastic = _jobs.Where(j => j.Key != ticket.JobId && !keeping.ContainsKey(j.Key) && !freed.Contains(j.Key)
                                       && Ticket(j.Key).Priority <= ticket.Priority && j.Value.Replicas > j.Value.Counts[^1])
            .OrderBy(j => Ticket(j.Key).Priority).ThenByDescending(j => j.Value.Replicas).ThenBy(j => j.Key, StringComparer.Ordinal).ToArray();
        var shrinks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (job, nodes) in elastic)
            foreach (int count in nodes.Counts.Where(c => c < nodes.Replicas))
            {
                shrinks[job] = count;
                keeping[job] = count * nodes.StagesPerReplica; // the highest replica ids go: the layout keeps the lowest
                if (!FitsFreed()) continue;
                foreach (var (shrinking, to) in shrinks)
                {
                    _shrinking[shrinking] = to;
                    string reason = $"shrunk to {to} replica(s) for job {ticket.JobId} (priority {ticket.Priority})";
                    LogShrinking(logger, shrinking, to, ticket.JobId);
                    await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.ReplicasChanged, shrinking, null, 0, 0, 0, null,
                        $"job {shrinking} asked to shrink from {_jobs[shrinking].Replicas} to {to} replica(s) to make room for job {ticket.JobId}"));
                    try
                    {
                        await GrainFactory.GetGrain<ITrainingJobGrain>(shrinking).ShrinkReplicas(to, reason);
                    }
                    catch (Exception e)
                    {
                        LogNotifyFailed(logger, e, shrinking);
                    }
                }
                return PlacementDecision.Refused($"Waiting for job(s) {string.Join(", ", shrinks.Keys)} to shrink and free nodes.");
            }
        foreach (string job in shrinks.Keys) keeping.Remove(job); // not enough: preempt instead, shrinking no one

        var victims = _jobs.Keys.Where(j => !freed.Contains(j) && Ticket(j).Priority < ticket.Priority)
            .OrderBy(j => Ticket(j).Priority).ThenByDescending(j => Ticket(j).SubmittedAt).ThenBy(j => j, StringComparer.Ordinal).ToArray();
        var chosen = new List<string>();
        foreach (string victim in victims)
        {
            chosen.Add(victim);
            freed.Add(victim);
            if (!FitsFreed()) continue;
            foreach (string job in chosen)
            {
                _preempting.Add(job);
                string reason = $"preempted by job {ticket.JobId} (priority {ticket.Priority} over {Ticket(job).Priority})";
                LogPreempting(logger, job, ticket.JobId);
                await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.JobPreempted, job, null, 0, 0, 0, null, $"job {job} {reason}: it checkpoints and frees its nodes"));
                try
                {
                    await GrainFactory.GetGrain<ITrainingJobGrain>(job).Preempt(reason);
                }
                catch (Exception e)
                {
                    LogNotifyFailed(logger, e, job);
                }
            }
            return PlacementDecision.Refused($"Waiting for preempted job(s) {string.Join(", ", chosen)} to checkpoint and free their nodes.");
        }
        return null;
    }

    /// <summary>
    /// Nodes placement may use, with what other jobs leave free: ready, heartbeating within NodeTimeout, on an active
    /// silo, not draining and (with ExclusiveNodes) running no other job's stages; cordoned ones and flagged
    /// stragglers keep the stages they have but take no new ones. Jobs in <c>excludingJobs</c> count as gone.
    /// </summary>
    private PlacementCandidate[] Candidates(string? excludingJob = null) =>
        Candidates(excludingJob is null ? [] : new HashSet<string>(StringComparer.Ordinal) { excludingJob });

    private PlacementCandidate[] Candidates(IReadOnlySet<string> excludingJobs, IReadOnlyDictionary<string, int>? keeping = null)
    {
        var now = time.GetUtcNow();
        var activeSilos = ActiveSilos();
        var memoryUsed = new Dictionary<string, long>(StringComparer.Ordinal);
        var hosted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (job, (nodes, memory, _, _, _)) in _jobs)
            for (int s = 0; s < nodes.Length && !excludingJobs.Contains(job); s++)
            {
                if (keeping is not null && keeping.TryGetValue(job, out int kept) && s >= kept) break; // shed by a shrink
                memoryUsed[nodes[s]] = memoryUsed.GetValueOrDefault(nodes[s]) + memory[s];
                hosted[nodes[s]] = hosted.GetValueOrDefault(nodes[s]) + 1;
            }
        bool exclusive = options.Value.ExclusiveNodes;
        return _nodes.Values
            .Where(n => IsPlaceable(n, now, activeSilos) && !n.Draining && !(exclusive && hosted.ContainsKey(n.Capabilities.NodeId)))
            .Select(n => new PlacementCandidate(n.Capabilities.NodeId, n.Capabilities.SiloName, n.Capabilities.GigaflopsMeasured,
                n.Capabilities.MemoryBytes - memoryUsed.GetValueOrDefault(n.Capabilities.NodeId), hosted.GetValueOrDefault(n.Capabilities.NodeId),
                n.AcceptsNewStages))
            .ToArray();
    }

    /// <summary>
    /// Invariant (issue 13, "recovery flaps onto dead nodes"): a node is placeable only while it proves alive — it reports
    /// itself ready, its last heartbeat is within NodeTimeout, its silo is <see cref="SiloStatus.Active"/> in this silo's
    /// membership view (Joining, ShuttingDown, Stopping and Dead all rule it out), and no job has reported it unreachable
    /// since its last heartbeat. A job usually notices a dead silo (its calls fail) seconds before the node times out
    /// here or membership votes the silo dead; without the last rule a recovery placed its stages straight back on the
    /// dead node and failed again (epochs 9 → 12 in 1.5 s). Every placement path (Place, PlaceReplicas, proposals,
    /// spares) goes through <see cref="Candidates(IReadOnlySet{string}, IReadOnlyDictionary{string, int}?)"/> and so
    /// through this check.
    /// </summary>
    private bool IsPlaceable(NodeRecord node, DateTimeOffset now, IReadOnlySet<string> activeSilos) =>
        node.Health is { State: NodeState.Ready } && node.LastHeartbeat is { } seen && now - seen <= options.Value.NodeTimeout
        && activeSilos.Contains(node.Capabilities.SiloName)
        && !_unreachable.ContainsKey(node.Capabilities.NodeId);

    public Task ReportUnreachable(string jobId, IReadOnlyList<string> nodeIds, string reason)
    {
        ArgumentNullException.ThrowIfNull(nodeIds);
        var now = time.GetUtcNow();
        // A node the scheduler does not know is not placeable anyway; it becomes known (and placeable) by heartbeating.
        foreach (string nodeId in nodeIds.Where(_nodes.ContainsKey))
            if (_unreachable.TryAdd(nodeId, now))
                LogUnreachable(logger, nodeId, jobId, reason);
        return Task.CompletedTask;
    }

    public Task Release(string jobId)
    {
        _jobs.Remove(jobId);
        _preempting.Remove(jobId);
        _shrinking.Remove(jobId);
        _waiting.Remove(jobId);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> GetPlacement(string jobId) =>
        Task.FromResult<IReadOnlyList<string>>(_jobs.TryGetValue(jobId, out var job) ? job.Nodes : []);

    public Task<PlacementDecision> ProposeFasterPlacement(string jobId, IReadOnlyList<StageDemand> stages)
    {
        if (!_jobs.TryGetValue(jobId, out var job))
            return Task.FromResult(PlacementDecision.Refused($"Job {jobId} holds no placement."));
        var candidates = Candidates(excludingJob: jobId);
        double now = PlacementPolicy.BottleneckSeconds(stages, job.Nodes, candidates);
        if (double.IsPositiveInfinity(now))
            return Task.FromResult(PlacementDecision.Refused($"Job {jobId} runs on a node that is no longer usable: it recovers first."));
        // Keep one stage of the job per node where it is; the stages that share a node may spread to nodes that joined.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[] keep = [.. job.Nodes.Select(n => seen.Add(n) ? n : "")];
        var proposal = PlacementPolicy.Place(stages, candidates, keep);
        if (!proposal.Placed)
            return Task.FromResult(proposal);
        double then = PlacementPolicy.BottleneckSeconds(stages, proposal.NodeByStage, candidates);
        double gain = now / then - 1;
        return Task.FromResult(gain >= options.Value.ScaleUpMinGain
            ? proposal
            : PlacementDecision.Refused($"No faster placement: the best expected gain is {gain:P0}, below the {options.Value.ScaleUpMinGain:P0} threshold."));
    }

    private NodeRecord Known(string nodeId) =>
        _nodes.TryGetValue(nodeId, out var node) ? node : throw new NodeNotFoundException(nodeId, [.. _nodes.Keys.Order(StringComparer.Ordinal)]);

    private sealed record NodeRecord(NodeCapabilities Capabilities, NodeHealth? Health, DateTimeOffset? LastHeartbeat)
    {
        public bool Cordoned { get; init; }

        public bool Draining { get; init; }

        public string? Straggler { get; init; }

        /// <summary>Takes stages other than the ones it already runs.</summary>
        public bool AcceptsNewStages => !Cordoned && !Draining && Straggler is null;
    }
}
