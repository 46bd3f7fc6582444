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
        _nodes[capabilities.NodeId] = new NodeRecord(capabilities, existing?.Health, existing?.LastHeartbeat);
        if (!known) LogRegistered(logger, capabilities.NodeId, capabilities.SiloName, capabilities.GigaflopsMeasured);
        return Task.CompletedTask;
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
            .Select(n => new NodeInfo(n.Capabilities, n.Health, n.LastHeartbeat, stagesByNode[n.Capabilities.NodeId].ToArray()))
            .ToArray();
        return Task.FromResult(nodes);
    }

    public Task<PlacementDecision> Place(string jobId, IReadOnlyList<StageDemand> stages, IReadOnlyList<string> preferred)
    {
        _jobs.Remove(jobId);
        var now = time.GetUtcNow();
        var staleAfter = options.Value.NodeTimeout;
        var activeSilos = ActiveSilos();
        var memoryUsed = new Dictionary<string, long>(StringComparer.Ordinal);
        var hosted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (nodes, memory) in _jobs.Values)
            for (int s = 0; s < nodes.Length; s++)
            {
                memoryUsed[nodes[s]] = memoryUsed.GetValueOrDefault(nodes[s]) + memory[s];
                hosted[nodes[s]] = hosted.GetValueOrDefault(nodes[s]) + 1;
            }
        var candidates = _nodes.Values
            .Where(n => n.Health is { State: NodeState.Ready } && n.LastHeartbeat is { } seen && now - seen <= staleAfter
                        && activeSilos.Contains(n.Capabilities.SiloName))
            .Select(n => new PlacementCandidate(n.Capabilities.NodeId, n.Capabilities.SiloName, n.Capabilities.GigaflopsMeasured,
                n.Capabilities.MemoryBytes - memoryUsed.GetValueOrDefault(n.Capabilities.NodeId), hosted.GetValueOrDefault(n.Capabilities.NodeId)))
            .ToArray();
        var decision = PlacementPolicy.Place(stages, candidates, preferred);
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

    public Task Release(string jobId)
    {
        _jobs.Remove(jobId);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> GetPlacement(string jobId) =>
        Task.FromResult<IReadOnlyList<string>>(_jobs.TryGetValue(jobId, out var job) ? job.Nodes : []);

    public Task<NodeInfo> Cordon(string nodeId) => throw new NotImplementedException();

    public Task<NodeInfo> Uncordon(string nodeId) => throw new NotImplementedException();

    public Task<NodeInfo> Drain(string nodeId) => throw new NotImplementedException();

    public Task<bool> ReportStraggler(string jobId, string nodeId, string reason) => throw new NotImplementedException();

    public Task<PlacementDecision> ProposeFasterPlacement(string jobId, IReadOnlyList<StageDemand> stages) => throw new NotImplementedException();

    private sealed record NodeRecord(NodeCapabilities Capabilities, NodeHealth? Health, DateTimeOffset? LastHeartbeat);

    [LoggerMessage(1, LogLevel.Information, "Node {NodeId} registered from silo {Silo} ({Gigaflops} GFLOP/s)")]
    private static partial void LogRegistered(ILogger logger, string nodeId, string silo, double gigaflops);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId} placed: {Placement}")]
    private static partial void LogPlaced(ILogger logger, string jobId, string placement);

    [LoggerMessage(4, LogLevel.Warning, "Node {NodeId} lost: {Reason}")]
    private static partial void LogNodeLost(ILogger logger, string nodeId, string reason);

    [LoggerMessage(5, LogLevel.Debug, "Could not tell job {JobId} about a lost node")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId} could not be placed: {Reason}")]
    private static partial void LogRefused(ILogger logger, string jobId, string? reason);
}
