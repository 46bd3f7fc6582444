using Cluster.Grains.Hosting;
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
            _nodes[health.NodeId] = record with { Health = health, LastHeartbeat = time.GetUtcNow() };
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
        var activeSilos = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
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

    private sealed record NodeRecord(NodeCapabilities Capabilities, NodeHealth? Health, DateTimeOffset? LastHeartbeat);

    [LoggerMessage(1, LogLevel.Information, "Node {NodeId} registered from silo {Silo} ({Gigaflops} GFLOP/s)")]
    private static partial void LogRegistered(ILogger logger, string nodeId, string silo, double gigaflops);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId} placed: {Placement}")]
    private static partial void LogPlaced(ILogger logger, string jobId, string placement);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId} could not be placed: {Reason}")]
    private static partial void LogRefused(ILogger logger, string jobId, string? reason);
}
