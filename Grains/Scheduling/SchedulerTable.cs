using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// The scheduler's table, the one source of truth for "which job holds which node in which epoch" (jobs and stages hold
/// copies stamped with that epoch), and the decisions over it. Deciding (<see cref="Decide"/>) is a pure function of the
/// table, the clock and the active silos: it changes nothing, a refusal included. Applying (<see cref="Apply"/>) is one
/// step with no await in it; notifying the jobs a decision asks something of happens after, by message.
/// </summary>
/// <remarks>
/// Invariant (checked by <see cref="SchedulerInvariant"/> after every decision, in debug builds by the grain and in the
/// tests after every step): with <see cref="SchedulerRules.ExclusiveNodes"/> a node holds stages of at most one job;
/// and no node holds more stage memory than it has. Every placement takes its nodes from
/// <see cref="Candidates"/>, which leaves out nodes other jobs hold (exclusive) and counts their memory as used, so a
/// decision keeps the invariant; the only other writer, <see cref="Adopt"/> (rebuilding after a restart), refuses
/// claims that would break it.
/// </remarks>
internal sealed partial class SchedulerTable(
    SchedulerRules rules,
    Func<IReadOnlyDictionary<string, int>> quotas,
    Dictionary<string, NodeRecord>? nodes = null,
    Dictionary<string, JobNodes>? jobs = null)
{
    public SchedulerRules Rules => rules;

    /// <summary>Every node known, by id (the grain may share its own dictionary).</summary>
    public Dictionary<string, NodeRecord> Nodes { get; } = nodes ?? new(StringComparer.Ordinal);

    /// <summary>The placements: job → its row.</summary>
    public Dictionary<string, JobNodes> Jobs { get; } = jobs ?? new(StringComparer.Ordinal);

    /// <summary>Nodes the watch loop declared lost (and told their jobs about).</summary>
    public HashSet<string> Lost { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, JobTicket> Tickets { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, WaitingJob> Waiting { get; } = new(StringComparer.Ordinal);

    /// <summary>Shrink and preemption requests sent and not yet resolved, by the job asked.</summary>
    public Dictionary<string, PendingRelease> Pending { get; } = new(StringComparer.Ordinal);

    /// <summary>Nodes a job reported unreachable, with when: not placeable until a newer heartbeat arrives (see <see cref="IsPlaceable"/>).</summary>
    public Dictionary<string, DateTimeOffset> Unreachable { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Jobs the job registry lists as unfinished that have not reported to this scheduler since it (re)activated, with
    /// when it started asking. Such a job may be running: a node whose heartbeat says it runs a stage of one is held
    /// back from placement (see <see cref="HeldBack"/>) until the job is reconciled — it answers, asks to be placed or
    /// releases — or for <see cref="SchedulerRules.SilentJobHold"/> at most.
    /// </summary>
    public Dictionary<string, DateTimeOffset> Unreported { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Nodes held back from placement, with the jobs that hold them: by the node's own report (its last heartbeat's
    /// stages) of a job that is <see cref="Unreported"/> and holds no row — the table does not know what it holds, so
    /// handing its node out could put two jobs on one GPU. Jobs in <paramref name="excludingJobs"/> count as gone.
    /// </summary>
    public Dictionary<string, string[]> HeldBack(DateTimeOffset now, IReadOnlySet<string>? excludingJobs = null)
    {
        var held = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (Unreported.Count == 0) return held;
        foreach (var node in Nodes.Values)
        {
            if (node.Health is not { Occupants.Count: > 0 } health) continue;
            string[] silent = [.. health.Occupants.Select(o => o.JobId).Distinct(StringComparer.Ordinal).Where(job => IsSilent(job, now) && excludingJobs?.Contains(job) != true)];
            if (silent.Length > 0) held[node.Capabilities.NodeId] = silent;
        }
        return held;
    }

    /// <summary>
    /// <see cref="HeldBack"/> as the nodes view shows it: per held node, the jobs it is held for, since when the scheduler
    /// has been asking them (the earliest) and until when the hold lasts at the latest (<see cref="SchedulerRules.SilentJobHold"/> after).
    /// </summary>
    public Dictionary<string, NodeHold> Holds(DateTimeOffset now) =>
        HeldBack(now).ToDictionary(h => h.Key, h => new NodeHold([.. h.Value.Order(StringComparer.Ordinal)],
            h.Value.Min(job => Unreported[job]), h.Value.Max(job => Unreported[job]) + rules.SilentJobHold), StringComparer.Ordinal);

    /// <summary>An unreported job that holds no row, within the hold: what nodes say it runs is not handed out.</summary>
    public bool IsSilent(string jobId, DateTimeOffset now) =>
        !Jobs.ContainsKey(jobId) && Unreported.TryGetValue(jobId, out var since) && now - since < rules.SilentJobHold;

    public JobTicket Ticket(string jobId) =>
        Tickets.TryGetValue(jobId, out var ticket) ? ticket : new JobTicket(jobId, 0, "default", DateTimeOffset.MinValue);

    /// <summary>
    /// Decides a job's ask without changing anything. A job that holds no nodes waits behind queued jobs that come
    /// first and fit now; a job already holding nodes (moving, recovering, shrinking) is not held back by the queue.
    /// The job's own nodes count as free for its new placement. When the choice is refused for lack of room, room is
    /// made gentlest first (see <see cref="MakeRoom"/>): the refusal then carries the requests to send.
    /// </summary>
    public Admission Decide(AdmissionRequest request, DateTimeOffset now, IReadOnlySet<string> activeSilos)
    {
        ArgumentNullException.ThrowIfNull(request);
        string jobId = request.JobId;
        bool holds = Jobs.TryGetValue(jobId, out var held);
        if (held is not null && request.Epoch > 0 && request.Epoch < held.Epoch)
            return Refusal(PlacementDecision.Refused(PlacementRefusal.StaleEpoch,
                $"Job {jobId} asked in epoch {request.Epoch}, but its placement is for epoch {held.Epoch}: a newer activation of the job placed it."), null);
        var ticket = Ticket(jobId);
        var waiting = Waiting.TryGetValue(jobId, out var was)
            ? was with { Ticket = ticket, Demands = request.Minimum, LastAsk = now, OwnNodes = request.MinimumOwnNodes, MixedDevices = request.MixedDevices }
            : new WaitingJob(ticket, request.Minimum, now, now, "") { OwnNodes = request.MinimumOwnNodes, MixedDevices = request.MixedDevices };
        var candidates = Candidates(now, activeSilos, new HashSet<string>(StringComparer.Ordinal) { jobId });
        // A cordoned (draining, straggling) node keeps the stages a job has on it and takes no new ones: of those, a job is
        // offered only the ones it holds. One that holds none — paused, waiting, new — has nothing to keep there, so the
        // nodes it asks for by preference (its old ones) are new work like any other.
        candidates = [.. candidates.Where(c => c.AcceptsNewStages || (held is not null && held.Nodes.Contains(c.NodeId, StringComparer.Ordinal)))];

        if (!holds && Queue(now, waiting).TakeWhile(w => w.Ticket.JobId != jobId).FirstOrDefault(w => w.FitsIn(candidates)) is { } ahead)
            return Refusal(PlacementDecision.Refused(PlacementRefusal.QueuedBehind,
                $"Queued behind job {ahead.Ticket.JobId} (priority {ahead.Ticket.Priority}, team {ahead.Ticket.Team}), which goes first and fits now."), waiting);

        var choice = request.Choose(candidates, ticket);
        if (choice.Decision.Placed)
        {
            var demands = choice.Demands.OrderBy(s => s.Stage).ToArray();
            var row = new JobNodes([.. choice.Decision.NodeByStage], [.. demands.Select(s => s.MemoryBytes)], [.. choice.Labels],
                request.StagesPerReplica, request.Counts, Math.Max(request.Epoch, held?.Epoch ?? 0)) { MixedDevices = request.MixedDevices };
            return new Admission(jobId, choice, row, null, []);
        }
        // "Cannot fit" only when the stage fits no usable node even with every other job gone: else it waits for room.
        if (choice.Decision.Refusal == PlacementRefusal.CannotFit
            && Fits(request.Minimum, Candidates(now, activeSilos, Jobs.Keys.Concat(Unreported.Keys).ToHashSet(StringComparer.Ordinal)), [], request.MinimumOwnNodes, request.MixedDevices))
            choice = choice with
            {
                Decision = PlacementDecision.Refused(PlacementRefusal.WaitingForCapacity, $"Nodes that fit it are held by other jobs: {choice.Decision.Reason}"),
                MayPreempt = true,
            };
        if (choice.MayPreempt && MakeRoom(ticket, request, now, activeSilos) is { } room)
            return Refusal(room.Decision, waiting, room.Requests, choice);
        return Refusal(choice.Decision with { Reason = choice.Decision.Reason + WhyHeld(jobId, now) }, waiting, [], choice);

        Admission Refusal(PlacementDecision decision, WaitingJob? queued, IReadOnlyList<PendingRelease>? requests = null, PlacementChoice? chosen = null) =>
            new(jobId, (chosen ?? new PlacementChoice(decision, request.Minimum, [], false)) with { Decision = decision }, null,
                holds || queued is null ? null : queued with { Reason = decision.Reason ?? "" }, requests ?? []);
    }

    /// <summary>What keeps nodes out of reach besides other jobs' rows: held-back nodes and failed preemptions (empty: nothing).</summary>
    private string WhyHeld(string jobId, DateTimeOffset now)
    {
        var why = "";
        var held = HeldBack(now, new HashSet<string>(StringComparer.Ordinal) { jobId });
        if (held.Count > 0)
            why += $" Node(s) {string.Join(", ", held.Keys.Order(StringComparer.Ordinal))} are held back: they run stages of job(s) " +
                   $"{string.Join(", ", held.Values.SelectMany(j => j).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))}, " +
                   "which have not reported to the restarted scheduler yet.";
        foreach (var failed in Pending.Values.Where(p => p.ForJob == jobId && p.FailedBecause is not null && Jobs.ContainsKey(p.JobId)).OrderBy(p => p.JobId, StringComparer.Ordinal))
            why += $" Job {failed.JobId} was asked to checkpoint and free its nodes for it, but its preemption checkpoint failed ({failed.FailedBecause}); it keeps its nodes and tries again.";
        return why;
    }

    /// <summary>
    /// A job asked to checkpoint and free its nodes could not commit the checkpoint (it keeps its nodes and tries again
    /// later): the request counts as overdue at once, so making room asks another victim or the job it was for waits.
    /// The request is forgotten as usual (twice the release timeout after it was sent) and may then be sent again.
    /// Returns the request, or null when there is none of that epoch or later (nothing to change).
    /// </summary>
    public PendingRelease? PreemptionFailed(string jobId, long epoch, string reason)
    {
        if (!Pending.TryGetValue(jobId, out var request) || request.IsShrink || (epoch > 0 && epoch < request.Epoch)) return null;
        Pending[jobId] = request with { FailedBecause = reason };
        return Pending[jobId];
    }

    /// <summary>
    /// Applies a decision in one step: a placement writes the job's row (and ends its wait and any shrink it was asked
    /// for); a refusal writes no row — a job that waits is queued, and the requests it makes are recorded as pending.
    /// Returns the requests to send.
    /// </summary>
    public IReadOnlyList<PendingRelease> Apply(Admission admission, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(admission);
        ForgetStale(now);
        if (Pending.TryGetValue(admission.JobId, out var own) && own.IsShrink)
            Pending.Remove(admission.JobId); // it places again: the shrink it was asked for is done (or moot)
        if (admission.Placement is { } row)
        {
            Jobs[admission.JobId] = row;
            Waiting.Remove(admission.JobId);
        }
        else if (admission.Waiting is { } waiting)
        {
            Waiting[admission.JobId] = waiting;
        }
        foreach (var request in admission.Requests)
            Pending[request.JobId] = request;
        return admission.Requests;
    }

    /// <summary>A job let go of its nodes (finished, paused, preempted, failed): its row, wait and pending request go, and it is no longer unreported.</summary>
    public void Release(string jobId)
    {
        Unreported.Remove(jobId);
        Jobs.Remove(jobId);
        Pending.Remove(jobId);
        Waiting.Remove(jobId);
    }

    /// <summary>
    /// Rebuilding after a restart: takes a job's reported placement unless it would break the invariant against the rows
    /// already adopted (a node another job holds, with exclusive nodes; more stage memory than a known node has).
    /// Returns the nodes in conflict (empty: adopted).
    /// </summary>
    public IReadOnlyList<string> Adopt(string jobId, JobNodes row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var others = Jobs.Where(j => j.Key != jobId).ToArray();
        var held = others.SelectMany(j => j.Value.Nodes).ToHashSet(StringComparer.Ordinal);
        var memory = others.SelectMany(j => j.Value.Nodes.Select((node, s) => (node, bytes: j.Value.Memory[s])))
            .Concat(row.Nodes.Select((node, s) => (node, bytes: row.Memory[s])))
            .GroupBy(x => x.node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(x => x.bytes), StringComparer.Ordinal);
        string[] conflicts = [.. row.Nodes.Distinct(StringComparer.Ordinal).Where(node =>
            (rules.ExclusiveNodes && held.Contains(node))
            || (Nodes.TryGetValue(node, out var known) && memory[node] > known.Capabilities.MemoryBytes))];
        if (conflicts.Length == 0) Jobs[jobId] = row;
        return conflicts;
    }

    /// <summary>Waiting jobs that stopped asking, and requests forgotten (twice the release timeout), go.</summary>
    public void ForgetStale(DateTimeOffset now)
    {
        foreach (var gone in Waiting.Values.Where(w => now - w.LastAsk > rules.WaitingExpiry).ToArray())
            Waiting.Remove(gone.Ticket.JobId);
        foreach (var stale in Pending.Values.Where(p => now - p.Since >= 2 * rules.ReleaseTimeout || !Jobs.ContainsKey(p.JobId)).ToArray())
            Pending.Remove(stale.JobId);
    }

    /// <summary>Requests past the release timeout: the scheduler no longer counts on them (see <see cref="PendingRelease"/>).</summary>
    public IEnumerable<PendingRelease> Overdue(DateTimeOffset now) =>
        Pending.Values.Where(p => Jobs.ContainsKey(p.JobId) && p.FailedBecause is null && now - p.Since >= rules.ReleaseTimeout);

    /// <summary>Waiting jobs still asking (with <paramref name="asking"/> in place of its own entry), in service order: priority, then the team holding fewer nodes, then first come.</summary>
    public List<WaitingJob> Queue(DateTimeOffset now, WaitingJob? asking = null)
    {
        var usage = TeamNodes();
        var entries = Waiting.Values.Where(w => now - w.LastAsk <= rules.WaitingExpiry && w.Ticket.JobId != asking?.Ticket.JobId);
        if (asking is not null) entries = entries.Append(asking);
        return [.. entries
            .OrderByDescending(w => w.Ticket.Priority)
            .ThenBy(w => usage.GetValueOrDefault(w.Ticket.Team))
            .ThenBy(w => w.Ticket.SubmittedAt)
            .ThenBy(w => w.Ticket.JobId, StringComparer.Ordinal)];
    }

    /// <summary>Distinct nodes each team's placed jobs hold.</summary>
    public Dictionary<string, int> TeamNodes() =>
        Jobs.GroupBy(j => Ticket(j.Key).Team, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.SelectMany(j => j.Value.Nodes).Distinct(StringComparer.Ordinal).Count(), StringComparer.Ordinal);

    /// <summary>Why the team's quota forbids the placement (<see cref="PlacementRefusal.OverQuota"/>), or null.</summary>
    public string? QuotaProblem(JobTicket ticket, IReadOnlyList<string> nodeByStage)
    {
        if (!quotas().TryGetValue(ticket.Team, out int max)) return null;
        var held = Jobs.Where(j => j.Key != ticket.JobId && Ticket(j.Key).Team == ticket.Team).SelectMany(j => j.Value.Nodes).ToHashSet(StringComparer.Ordinal);
        int used = held.Count;
        held.UnionWith(nodeByStage);
        if (held.Count <= max) return null;
        int needs = nodeByStage.Distinct(StringComparer.Ordinal).Count();
        return needs > max
            ? $"Team '{ticket.Team}' quota is {max} node(s) but job {ticket.JobId} needs {needs}: raise the quota (quota set {ticket.Team} {needs}) or use fewer stages."
            : $"Team '{ticket.Team}' is at its quota: its jobs hold {used} of {max} node(s) and job {ticket.JobId} needs {needs} more. It waits until the team's jobs free nodes, or raise the quota (quota set {ticket.Team} N).";
    }

    /// <summary>
    /// Nodes placement may use, with what other jobs leave free: placeable (see <see cref="IsPlaceable"/>), not draining,
    /// not held back for a job that has not reported since a restart (see <see cref="HeldBack"/>) and (with
    /// ExclusiveNodes) running no other job's stages; cordoned ones and flagged stragglers keep the stages
    /// they have but take no new ones. Jobs in <paramref name="excludingJobs"/> count as gone; a job in
    /// <paramref name="keeping"/> counts only its first so many stages (a shrink).
    /// </summary>
    public PlacementCandidate[] Candidates(DateTimeOffset now, IReadOnlySet<string> activeSilos, IReadOnlySet<string>? excludingJobs = null,
        IReadOnlyDictionary<string, int>? keeping = null)
    {
        var memoryUsed = new Dictionary<string, long>(StringComparer.Ordinal);
        var hosted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (job, row) in Jobs)
        {
            if (excludingJobs?.Contains(job) == true) continue;
            for (int s = 0; s < row.Nodes.Length; s++)
            {
                if (keeping is not null && keeping.TryGetValue(job, out int kept) && s >= kept) break; // shed by a shrink
                memoryUsed[row.Nodes[s]] = memoryUsed.GetValueOrDefault(row.Nodes[s]) + row.Memory[s];
                hosted[row.Nodes[s]] = hosted.GetValueOrDefault(row.Nodes[s]) + 1;
            }
        }
        var heldBack = HeldBack(now, excludingJobs);
        return [.. Nodes.Values
            .Where(n => IsPlaceable(n, now, activeSilos) && !n.MovesOff && !(rules.ExclusiveNodes && hosted.ContainsKey(n.Capabilities.NodeId))
                        && !heldBack.ContainsKey(n.Capabilities.NodeId))
            .Select(n => new PlacementCandidate(n.Capabilities.NodeId, n.Capabilities.SiloName, n.Capabilities.GigaflopsMeasured,
                n.Capabilities.MemoryBytes - memoryUsed.GetValueOrDefault(n.Capabilities.NodeId), hosted.GetValueOrDefault(n.Capabilities.NodeId),
                n.AcceptsNewStages, DeviceKinds.KindOf(n.Capabilities.Device)))];
    }

    /// <summary>
    /// Invariant (issue 13, "recovery flaps onto dead nodes"): a node is placeable only while it proves alive — it reports
    /// itself ready, its last heartbeat is within NodeTimeout, its silo is active in this silo's membership view
    /// (Joining, ShuttingDown, Stopping and Dead all rule it out) and not suspected there (the scheduler passes as
    /// <paramref name="activeSilos"/> the Active silos less those with a fresh suspicion vote: see <see cref="SuspectedSilos"/>),
    /// and no job has reported it unreachable since its last heartbeat. A job usually notices a dead silo (its calls fail) seconds before the node times out here or
    /// membership votes the silo dead; without the last rule a recovery placed its stages straight back on the dead
    /// node and failed again (epochs 9 → 12 in 1.5 s). Every placement path goes through <see cref="Candidates"/> and so
    /// through this check.
    /// </summary>
    public bool IsPlaceable(NodeRecord node, DateTimeOffset now, IReadOnlySet<string> activeSilos) =>
        WhyNotPlaceable(node, now, activeSilos, static silo => silo) is null;

    /// <summary>
    /// Which rule of <see cref="IsPlaceable"/> keeps <paramref name="node"/> out of placement now, in words an operator can
    /// act on, or null when it is placeable — the one definition both answer from. <paramref name="whySiloNot"/> says why
    /// a silo missing from <paramref name="activeSilos"/> is (its membership status, a suspicion vote); it is asked only
    /// then. The operator's marks (cordon, drain) and the restart hold are not among these rules: they have flags of their own.
    /// </summary>
    public string? WhyNotPlaceable(NodeRecord node, DateTimeOffset now, IReadOnlySet<string> activeSilos, Func<string, string> whySiloNot)
    {
        if (node.Health is not { } health || node.LastHeartbeat is not { } seen) return "no heartbeat received yet";
        if (health.State != NodeState.Ready) return $"its last heartbeat says {health.State}";
        if (now - seen > rules.NodeTimeout)
            return $"no heartbeat for {(now - seen).TotalSeconds:0.0} s (NodeTimeout {rules.NodeTimeout.TotalSeconds:0.#} s)";
        if (!activeSilos.Contains(node.Capabilities.SiloName)) return whySiloNot(node.Capabilities.SiloName);
        if (Unreachable.TryGetValue(node.Capabilities.NodeId, out var reported))
            return $"a job reported it unreachable at {reported:HH:mm:ss.fff}; placeable again with its next heartbeat";
        return null;
    }

    /// <summary>
    /// Whether the stages can be placed — each on a node of its own when <paramref name="ownNodes"/>, all on nodes of
    /// one device kind unless <paramref name="mixedDevices"/> (see <see cref="DeviceKinds"/>).
    /// </summary>
    public static bool Fits(IReadOnlyList<StageDemand> stages, IReadOnlyList<PlacementCandidate> candidates, IReadOnlyList<string> preferred, bool ownNodes,
        bool mixedDevices = false)
    {
        var decision = PlacementPolicy.Place(stages, candidates, preferred, mixedDevices);
        return decision.Placed && (!ownNodes || OnOwnNodes(decision));
    }

    /// <summary>Every stage of the placement has a node to itself.</summary>
    public static bool OnOwnNodes(PlacementDecision decision) =>
        decision.NodeByStage.Distinct(StringComparer.Ordinal).Count() == decision.NodeByStage.Count;
}
