using System.Diagnostics;
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
/// Knows every node (capabilities, latest heartbeat) and which job's stages run where — its <see cref="SchedulerTable"/>
/// is the one source of truth for that — and places stages with <see cref="PlacementPolicy"/>, using only nodes that
/// prove alive (see <see cref="SchedulerTable.IsPlaceable"/>) on silos membership neither declared dead nor suspects (see
/// <see cref="SuspectedSilos"/>). Every ask is decided without side effects, applied in one
/// step, and only then are other jobs told (by message, never awaited) what the decision asks of them. After a restart
/// it rebuilds its table before it admits anything: nodes re-register on their next heartbeat, and the jobs the job
/// registry lists report their placements (see <c>SchedulerGrain.Recovery.cs</c>); only operators' settings are stored.
/// </summary>
[Reentrant]
internal sealed partial class SchedulerGrain(
    [PersistentState("scheduler", StorageNames.Jobs)] IPersistentState<SchedulerState> persisted,
    IOptions<TrainingClusterOptions> options,
    IClusterMembershipService membership,
    SuspectedSilos suspects,
    TimeProvider time,
    ILogger<SchedulerGrain> logger)
    : Grain, ISchedulerGrain, IKnowJobTeams
{
    /// <summary>A waiting job that has not asked for this long has gone (paused, cancelled, its grain moving).</summary>
    private static readonly TimeSpan WaitingExpiry = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, NodeRecord> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobNodes> _jobs = new(StringComparer.Ordinal);
    private SchedulerTable _table = null!; // created on activation, over _nodes and _jobs
    private IGrainTimer? _watch;
    private DateTimeOffset _activatedAt;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetUtcNow();
        var o = options.Value;
        _table = new SchedulerTable(new SchedulerRules(o.ExclusiveNodes, o.NodeTimeout, o.SchedulerReleaseTimeout, WaitingExpiry, o.SchedulerSilentJobHold),
            () => persisted.State.Quotas, _nodes, _jobs);
        _watch = this.RegisterGrainTimer(Watch, new GrainTimerCreationOptions
        {
            DueTime = o.HeartbeatPeriod,
            Period = o.HeartbeatPeriod,
            Interleave = true,
            KeepAlive = true,
        });
        StartRebuild();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _watch?.Dispose();
        _deactivating.Cancel();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Failure detection, two signals: heartbeats (a node silent for longer than NodeTimeout, or one that reports
    /// itself unhealthy) and Orleans membership (the node's silo is no longer active). Jobs using a lost node hear
    /// about it at once (a message, not awaited), so they abandon the step in flight instead of waiting for calls that
    /// will never return. Also forgets stale waits and requests, and says when a request is overdue.
    /// </summary>
    private async Task Watch(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var active = ActiveSilos();
        foreach (var node in _nodes.Values.ToArray())
        {
            string id = node.Capabilities.NodeId;
            if (node.LastHeartbeat is not { } seen) continue; // still starting
            if (node.Health is { FlakyDevice: true } flaky && !node.Cordoned && flaky.ErrorCount > _flakyCordonedAt.GetValueOrDefault(id, -1)) await CordonFlaky(node);
            string? why = !active.Contains(node.Capabilities.SiloName) ? $"its silo '{node.Capabilities.SiloName}' left the cluster"
                : now - seen > options.Value.NodeTimeout ? $"no heartbeat for {(now - seen).TotalSeconds:F1} s"
                : node.Health is { State: NodeState.Unhealthy } h ? $"unhealthy after {h.ErrorCount} failed operations (last: {h.LastError})"
                : null;
            if (why is not null && _table.Lost.Add(id))
            {
                LogNodeLost(logger, id, why);
                // The jobs the table places there, and those the node itself said it runs that have not reported yet.
                var silent = (node.Health?.Occupants ?? []).Select(o => o.JobId).Where(j => _table.IsSilent(j, now));
                foreach (string jobId in _jobs.Where(j => j.Value.Nodes.Contains(id)).Select(j => j.Key).Concat(silent).Distinct(StringComparer.Ordinal).ToArray())
                    Send(jobId, job => job.NodesLost([id], why));
                await this.Publish(new ClusterEvent(now, ClusterEventKind.NodeLost, null, id, 0, 0, 0, null, $"node {id} lost: {why}"));
            }
            else if (why is null && _table.Lost.Remove(id))
            {
                await this.Publish(new ClusterEvent(now, ClusterEventKind.NodeRecovered, null, id, 0, 0, 0, null, $"node {id} is healthy again"));
            }
        }
        // Every silent job is given up in one step, before any await: a job that reports meanwhile (this grain is
        // reentrant) finds itself adopted or given up, never both (a job given up after its report was adopted had its
        // nodes announced placeable again). Only the events wait.
        var givenUp = _table.Unreported.Where(u => now - u.Value >= _table.Rules.SilentJobHold).ToArray()
            .Select(u => (JobId: u.Key, Silent: now - u.Value, Reporting: NodesReporting(u.Key))).ToArray();
        foreach (var (jobId, silent, _) in givenUp)
        {
            _table.Unreported.Remove(jobId);
            LogSilentJobGivenUp(logger, jobId, silent.TotalSeconds);
        }
        foreach (var (jobId, silent, reporting) in givenUp)
            await Unhold(jobId, reporting, $"has not reported for {silent.TotalSeconds:F0} s");
        foreach (var overdue in _table.Overdue(now).Where(p => _overdueReported.Add((p.JobId, p.Since))).ToArray())
            LogReleaseOverdue(logger, overdue.JobId, overdue.IsShrink ? "shrink" : "checkpoint and free its nodes", overdue.ForJob, (now - overdue.Since).TotalSeconds);
        await ReturnRestartedNodes();
        AskDrainingJobs(now);
        _table.ForgetStale(now);
        _overdueReported.RemoveWhere(r => !_table.Pending.TryGetValue(r.JobId, out var p) || p.Since != r.Since);
    }

    /// <summary>Overdue requests already logged (job, when asked).</summary>
    private readonly HashSet<(string JobId, DateTimeOffset Since)> _overdueReported = [];

    /// <summary>
    /// Tells a job something without waiting for it (one-way): the scheduler's decision is already applied, and a job
    /// that does not act on it is resolved by its release, its failure or the release timeout — never by this call.
    /// </summary>
    private void Send(string jobId, Func<ITrainingJobGrain, Task> message)
    {
        Task sent;
        try
        {
            sent = message(GrainFactory.GetGrain<ITrainingJobGrain>(jobId));
        }
        catch (Exception e)
        {
            LogNotifyFailed(logger, e, jobId);
            return;
        }
        _ = sent.ContinueWith(t => LogNotifyFailed(logger, t.Exception!, jobId), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private HashSet<string> ActiveSilos() => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The silos whose nodes may take stages: Active in membership and not suspected by it (<paramref name="suspected"/>,
    /// from <see cref="SuspectedSilos"/>). A suspected silo's nodes are not placeable, as a dead silo's are, but are not
    /// lost either: their jobs keep them, and only a death (or a missed heartbeat) makes the watch loop move them.
    /// </summary>
    private HashSet<string> PlaceableSilos(IReadOnlyDictionary<string, DateTimeOffset> suspected)
    {
        var silos = ActiveSilos();
        silos.ExceptWith(suspected.Keys);
        return silos;
    }

    public async Task Register(NodeCapabilities capabilities)
    {
        bool known = _nodes.TryGetValue(capabilities.NodeId, out var existing);
        // A node registering again may be a fresh grain (its silo came back) whose heartbeat sequence starts over: the
        // old sequence must not make its new heartbeats look stale. Its last health stays until the next heartbeat, so
        // a routine re-registration never makes a node look unready.
        _nodes[capabilities.NodeId] = existing is null
            ? WithLeavingMark(WithOperatorMark(new NodeRecord(capabilities, null, null)))
            : existing with { Capabilities = capabilities, Health = existing.Health is { } h ? h with { Sequence = 0 } : null };
        await ReturnRestartedNodes();
        if (known) return;
        LogRegistered(logger, capabilities.NodeId, capabilities.SiloName, capabilities.GigaflopsMeasured);
        await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeJoined, null, capabilities.NodeId, 0, 0, 0, null,
            $"node {capabilities.NodeId} joined from silo {capabilities.SiloName} ({capabilities.GigaflopsMeasured:F1} GFLOP/s)"));
    }

    public Task<bool> Heartbeat(NodeHealth health)
    {
        if (!_nodes.TryGetValue(health.NodeId, out var record))
            return Task.FromResult(false);
        if (record.Health is null || health.Sequence > record.Health.Sequence)
        {
            _nodes[health.NodeId] = record with { Health = health, LastHeartbeat = time.GetUtcNow() };
            TrainingMetrics.Heartbeat(health.NodeId, time.GetUtcNow() - health.SentAt, health.DeviceUtilization);
            // A heartbeat newer than any recorded before the report, received after it: the node proved alive again.
            if (_table.Unreachable.Remove(health.NodeId, out var reportedAt))
                LogReachableAgain(logger, health.NodeId, (time.GetUtcNow() - reportedAt).TotalSeconds);
        }
        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<NodeInfo>> GetNodes()
    {
        var stagesByNode = _jobs.SelectMany(j => j.Value.Nodes.Select((node, stage) => (node, label: $"{j.Key}/{j.Value.Labels[stage]}")))
            .ToLookup(x => x.node, x => x.label, StringComparer.Ordinal);
        var holds = _table.Holds(time.GetUtcNow());
        var notPlaceable = NotPlaceableRule();
        IReadOnlyList<NodeInfo> nodes = _nodes.Values
            .OrderBy(n => n.Capabilities.NodeId, StringComparer.Ordinal)
            .Select(n => Info(n, stagesByNode[n.Capabilities.NodeId].ToArray(), holds.GetValueOrDefault(n.Capabilities.NodeId), notPlaceable(n)))
            .ToArray();
        return Task.FromResult(nodes);
    }

    private NodeInfo Info(NodeRecord n, string[] stages, NodeHold? hold, string? notPlaceable) =>
        new(n.Capabilities, n.Health, n.LastHeartbeat, stages, n.Cordoned, n.MovesOff, n.Straggler, _table.Lost.Contains(n.Capabilities.NodeId),
            DrainReason(n.Capabilities.NodeId), hold, notPlaceable);

    private NodeInfo Info(NodeRecord n) =>
        Info(n, [.. _jobs.SelectMany(j => j.Value.Nodes.Select((node, stage) => (node, label: $"{j.Key}/{j.Value.Labels[stage]}"))).Where(x => x.node == n.Capabilities.NodeId).Select(x => x.label)],
            _table.Holds(time.GetUtcNow()).GetValueOrDefault(n.Capabilities.NodeId), NotPlaceable(n));

    /// <summary>
    /// The admission path every placement takes: the start guard (the table is rebuilt and nodes have re-registered),
    /// then <see cref="SchedulerTable.Decide"/> (pure: the queue, <see cref="AdmissionRequest.Choose"/> on the candidate
    /// nodes, making room), then <see cref="SchedulerTable.Apply"/> in one step, then the invariant check, and only then
    /// the messages to the jobs asked to shrink or to be preempted.
    /// </summary>
    private async Task<PlacementChoice> Admit(AdmissionRequest request)
    {
        // Gathered before deciding (cached, time-boxed: never a stall), so that the decision stays a pure function of its inputs.
        var suspected = await suspects.Current();
        if (StartingProblem() is { } starting)
            return new PlacementChoice(PlacementDecision.Refused(PlacementRefusal.SchedulerStarting, starting), request.Minimum, [], false);
        var now = time.GetUtcNow();
        var admission = _table.Decide(request, now, PlaceableSilos(suspected));
        CheckPlacementRules(admission, now);
        var requests = _table.Apply(admission, now);
        CheckInvariant();

        var decision = admission.Choice.Decision;
        if (decision.Placed)
            LogPlaced(logger, request.JobId, string.Join(", ", decision.NodeByStage.Select((n, s) => $"{admission.Choice.Labels[s]}→{n}")));
        else
            LogRefused(logger, request.JobId, decision.Refusal, decision.Reason);
        foreach (var ask in requests)
        {
            if (ask.KeepReplicas is { } to)
            {
                LogShrinking(logger, ask.JobId, to, ask.ForJob);
                Send(ask.JobId, job => job.ShrinkReplicas(to, ask.Reason));
                await this.Publish(new ClusterEvent(now, ClusterEventKind.ReplicasChanged, ask.JobId, null, ask.Epoch, 0, 0, null,
                    $"job {ask.JobId} asked to shrink to {to} replica(s) to make room for job {ask.ForJob}"));
            }
            else
            {
                LogPreempting(logger, ask.JobId, ask.ForJob);
                Send(ask.JobId, job => job.Preempt(ask.Reason));
                await this.Publish(new ClusterEvent(now, ClusterEventKind.JobPreempted, ask.JobId, null, ask.Epoch, 0, 0, null,
                    $"job {ask.JobId} {ask.Reason}: it checkpoints and frees its nodes"));
            }
        }
        return admission.Choice;
    }

    /// <summary>
    /// Why the scheduler admits nothing yet, or null. A scheduler that just (re)activated — its silo died, or the runtime
    /// deactivated it — knows only the nodes whose heartbeat already came in, and none of the running jobs' placements:
    /// placing now would pack every stage onto those few nodes, or onto nodes running jobs still unreported. Every live
    /// node re-registers on its next heartbeat and reports its health on the one after; the jobs report when asked.
    /// </summary>
    private string? StartingProblem()
    {
        var settling = 3 * options.Value.HeartbeatPeriod;
        var since = time.GetUtcNow() - _activatedAt;
        if (since < settling)
            return $"the scheduler started {since.TotalSeconds:F2} s ago; nodes re-register within {settling.TotalSeconds:F2} s";
        if (_rebuilt) return null;
        return _rebuildProblem is { } problem
            ? $"the scheduler started {since.TotalSeconds:F2} s ago and cannot rebuild its table yet: {problem}"
            : $"the scheduler started {since.TotalSeconds:F2} s ago and is still asking running jobs for their placements";
    }

    /// <summary>Debug builds: the table's invariant after every decision (see <see cref="SchedulerInvariant"/>).</summary>
    [Conditional("DEBUG")]
    private void CheckInvariant()
    {
        var problems = SchedulerInvariant.Problems(_table);
        Debug.Assert(problems.Count == 0, $"Scheduler table invariant broken: {string.Join("; ", problems)}");
    }

    /// <summary>
    /// Debug builds: a placement takes no node held back for a job that has not reported, and no node closed to new
    /// stages that the job did not hold (see <see cref="SchedulerInvariant.PlacedOnHeldBack"/>, <see cref="SchedulerInvariant.PlacedOnClosed"/>).
    /// </summary>
    [Conditional("DEBUG")]
    private void CheckPlacementRules(Admission admission, DateTimeOffset now)
    {
        var problems = SchedulerInvariant.PlacedOnHeldBack(_table, admission, now).Concat(SchedulerInvariant.PlacedOnClosed(_table, admission)).ToList();
        Debug.Assert(problems.Count == 0, $"Scheduler placement against its rules: {string.Join("; ", problems)}");
    }

    private JobTicket Ticket(string jobId) => _table.Ticket(jobId);

    string? IKnowJobTeams.TeamOf(string jobId) => _table.Tickets.TryGetValue(jobId, out var ticket) ? ticket.Team : null;

    /// <summary>Waiting jobs still asking, in service order.</summary>
    private List<WaitingJob> Queue() => _table.Queue(time.GetUtcNow());

    private Dictionary<string, int> TeamNodes() => _table.TeamNodes();

    private string? QuotaProblem(JobTicket ticket, IReadOnlyList<string> nodeByStage) => _table.QuotaProblem(ticket, nodeByStage);

    /// <summary>
    /// Nodes placement may use now (see <see cref="SchedulerTable.Candidates"/>), the job given counting as gone; for the
    /// proposals that do not wait, with the suspected silos last known (see <see cref="SuspectedSilos.Known"/>).
    /// </summary>
    private PlacementCandidate[] Candidates(string? excludingJob = null) =>
        _table.Candidates(time.GetUtcNow(), PlaceableSilos(suspects.Known), excludingJob is null ? null : new HashSet<string>(StringComparer.Ordinal) { excludingJob });

    public Task ReportUnreachable(string jobId, IReadOnlyList<string> nodeIds, string reason)
    {
        ArgumentNullException.ThrowIfNull(nodeIds);
        var now = time.GetUtcNow();
        // A node the scheduler does not know is not placeable anyway; it becomes known (and placeable) by heartbeating.
        foreach (string nodeId in nodeIds.Where(_nodes.ContainsKey))
            if (_table.Unreachable.TryAdd(nodeId, now))
                LogUnreachable(logger, nodeId, jobId, reason);
        return Task.CompletedTask;
    }

    public async Task Release(string jobId)
    {
        bool silent = _table.IsSilent(jobId, time.GetUtcNow());
        string[] reporting = silent ? NodesReporting(jobId) : [];
        _table.Release(jobId); // no longer unreported either: an answer of its still on the way is stale now
        if (silent) await Unhold(jobId, reporting, "released its nodes before it reported to the restarted scheduler");
    }

    public async Task PreemptionFailed(string jobId, long epoch, string reason)
    {
        if (_table.PreemptionFailed(jobId, epoch, reason) is not { } request) return;
        LogPreemptionFailed(logger, jobId, request.ForJob, reason);
        await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.PreemptionFailed, jobId, null, request.Epoch, 0, 0, null,
            $"job {jobId} could not checkpoint to free its nodes for job {request.ForJob} ({reason}): it keeps them and tries again; the scheduler no longer waits for it"));
    }

    public Task<IReadOnlyList<string>> GetPlacement(string jobId) =>
        Task.FromResult<IReadOnlyList<string>>(_jobs.TryGetValue(jobId, out var job) ? job.Nodes : []);

    public Task<PlacementDecision> ProposeFasterPlacement(string jobId, IReadOnlyList<StageDemand> stages) =>
        Task.FromResult(_jobs.TryGetValue(jobId, out var job)
            ? ScaleUpProposal.Propose(jobId, job, stages, Candidates(excludingJob: jobId), options.Value.ScaleUpMinGain)
            : PlacementDecision.Refused(PlacementRefusal.NoPlacement, $"Job {jobId} holds no placement."));

    private NodeRecord Known(string nodeId) =>
        _nodes.TryGetValue(nodeId, out var node) ? node : throw new NodeNotFoundException(nodeId, [.. _nodes.Keys.Order(StringComparer.Ordinal)]);
}
