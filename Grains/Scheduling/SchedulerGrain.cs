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
/// <see cref="PlacementPolicy"/>, using only nodes that heartbeat within <see cref="TrainingClusterOptions.NodeTimeout"/>
/// and whose silo is an active cluster member. Its state is soft: after a restart nodes re-register on their next heartbeat and
/// jobs re-place, so it needs no storage.
/// </summary>
[Reentrant]
internal sealed partial class SchedulerGrain(
    IOptions<TrainingClusterOptions> options,
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<SchedulerGrain> logger)
    : Grain, ISchedulerGrain
{
    private readonly Dictionary<string, NodeRecord> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string[] Nodes, long[] Memory)> _jobs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lost = new(StringComparer.Ordinal);
    private IGrainTimer? _watch;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
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
        _nodes[capabilities.NodeId] = existing is null ? new NodeRecord(capabilities, null, null) : existing with { Capabilities = capabilities };
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
        }
        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<NodeInfo>> GetNodes()
    {
        var stagesByNode = _jobs.SelectMany(j => j.Value.Nodes.Select((node, stage) => (node, label: $"{j.Key}/s{stage}")))
            .ToLookup(x => x.node, x => x.label, StringComparer.Ordinal);
        IReadOnlyList<NodeInfo> nodes = _nodes.Values
            .OrderBy(n => n.Capabilities.NodeId, StringComparer.Ordinal)
            .Select(n => Info(n, stagesByNode[n.Capabilities.NodeId].ToArray()))
            .ToArray();
        return Task.FromResult(nodes);
    }

    private NodeInfo Info(NodeRecord n, string[] stages) =>
        new(n.Capabilities, n.Health, n.LastHeartbeat, stages, n.Cordoned, n.Draining, n.Straggler, _lost.Contains(n.Capabilities.NodeId));

    private NodeInfo Info(NodeRecord n) =>
        Info(n, [.. _jobs.SelectMany(j => j.Value.Nodes.Select((node, stage) => (node, label: $"{j.Key}/s{stage}"))).Where(x => x.node == n.Capabilities.NodeId).Select(x => x.label)]);

    public Task<PlacementDecision> Place(string jobId, IReadOnlyList<StageDemand> stages, IReadOnlyList<string> preferred)
    {
        _jobs.Remove(jobId);
        var decision = PlacementPolicy.Place(stages, Candidates(), preferred);
        if (decision.Placed)
        {
            _jobs[jobId] = (decision.NodeByStage.ToArray(), stages.OrderBy(s => s.Stage).Select(s => s.MemoryBytes).ToArray());
            LogPlaced(logger, jobId, string.Join(", ", decision.NodeByStage.Select((n, s) => $"s{s}→{n}")));
        }
        else
        {
            LogRefused(logger, jobId, decision.Reason);
        }
        return Task.FromResult(decision);
    }

    /// <summary>
    /// Nodes placement may use, with what other jobs leave free: ready, heartbeating within NodeTimeout, on an active
    /// silo and not draining; cordoned ones and flagged stragglers keep the stages they have but take no new ones.
    /// </summary>
    private PlacementCandidate[] Candidates(string? excludingJob = null)
    {
        var now = time.GetUtcNow();
        var staleAfter = options.Value.NodeTimeout;
        var activeSilos = ActiveSilos();
        var memoryUsed = new Dictionary<string, long>(StringComparer.Ordinal);
        var hosted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (job, (nodes, memory)) in _jobs)
            for (int s = 0; s < nodes.Length && job != excludingJob; s++)
            {
                memoryUsed[nodes[s]] = memoryUsed.GetValueOrDefault(nodes[s]) + memory[s];
                hosted[nodes[s]] = hosted.GetValueOrDefault(nodes[s]) + 1;
            }
        return _nodes.Values
            .Where(n => n.Health is { State: NodeState.Ready } && n.LastHeartbeat is { } seen && now - seen <= staleAfter
                        && activeSilos.Contains(n.Capabilities.SiloName) && !n.Draining)
            .Select(n => new PlacementCandidate(n.Capabilities.NodeId, n.Capabilities.SiloName, n.Capabilities.GigaflopsMeasured,
                n.Capabilities.MemoryBytes - memoryUsed.GetValueOrDefault(n.Capabilities.NodeId), hosted.GetValueOrDefault(n.Capabilities.NodeId),
                n.AcceptsNewStages))
            .ToArray();
    }

    public Task Release(string jobId)
    {
        _jobs.Remove(jobId);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> GetPlacement(string jobId) =>
        Task.FromResult<IReadOnlyList<string>>(_jobs.TryGetValue(jobId, out var job) ? job.Nodes : []);

    public async Task<NodeInfo> Cordon(string nodeId)
    {
        var node = Known(nodeId);
        if (!node.Cordoned)
        {
            _nodes[nodeId] = node = node with { Cordoned = true };
            LogOperator(logger, "cordoned", nodeId);
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeCordoned, null, nodeId, 0, 0, 0, null,
                $"node {nodeId} cordoned: it keeps its stages but takes no new ones"));
        }
        return Info(node);
    }

    public async Task<NodeInfo> Uncordon(string nodeId)
    {
        var node = Known(nodeId);
        if (node.Cordoned || node.Draining || node.Straggler is not null)
        {
            _nodes[nodeId] = node = node with { Cordoned = false, Draining = false, Straggler = null };
            LogOperator(logger, "uncordoned", nodeId);
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeUncordoned, null, nodeId, 0, 0, 0, null,
                $"node {nodeId} uncordoned: it takes new stages again"));
        }
        return Info(node);
    }

    public async Task<NodeInfo> Drain(string nodeId)
    {
        var node = Known(nodeId);
        _nodes[nodeId] = node = node with { Cordoned = true, Draining = true };
        var jobs = _jobs.Where(j => j.Value.Nodes.Contains(nodeId)).Select(j => j.Key).ToArray();
        LogOperator(logger, "draining", nodeId);
        await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeDraining, null, nodeId, 0, 0, 0, null,
            jobs.Length == 0 ? $"node {nodeId} drained: it runs no stages" : $"node {nodeId} draining: the stages of {string.Join(", ", jobs)} move at their next step boundary"));
        foreach (string jobId in jobs)
            await GrainFactory.GetGrain<ITrainingJobGrain>(jobId).MoveStagesOff([nodeId], $"node {nodeId} is being drained");
        return Info(node);
    }

    public async Task<bool> ReportStraggler(string jobId, string nodeId, string reason)
    {
        var node = Known(nodeId);
        if (node.Straggler is null)
        {
            _nodes[nodeId] = node = node with { Straggler = reason };
            LogStraggler(logger, nodeId, jobId, reason);
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.StragglerFlagged, jobId, nodeId, 0, 0, 0, null,
                $"node {nodeId} flagged as a straggler by job {jobId}: {reason}"));
        }
        // A spare: a node that takes new stages and runs none.
        return Candidates().Any(c => c.AcceptsNewStages && c.StagesAlreadyHosted == 0);
    }

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

    [LoggerMessage(1, LogLevel.Information, "Node {NodeId} registered from silo {Silo} ({Gigaflops} GFLOP/s)")]
    private static partial void LogRegistered(ILogger logger, string nodeId, string silo, double gigaflops);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId} placed: {Placement}")]
    private static partial void LogPlaced(ILogger logger, string jobId, string placement);

    [LoggerMessage(4, LogLevel.Warning, "Node {NodeId} lost: {Reason}")]
    private static partial void LogNodeLost(ILogger logger, string nodeId, string reason);

    [LoggerMessage(5, LogLevel.Debug, "Could not tell job {JobId} about a lost node")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(6, LogLevel.Information, "Node {NodeId} {Action} by an operator")]
    private static partial void LogOperator(ILogger logger, string action, string nodeId);

    [LoggerMessage(7, LogLevel.Warning, "Node {NodeId} flagged as a straggler by job {JobId}: {Reason}")]
    private static partial void LogStraggler(ILogger logger, string nodeId, string jobId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId} could not be placed: {Reason}")]
    private static partial void LogRefused(ILogger logger, string jobId, string? reason);
}
