using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Security;

namespace Cluster.Grains.Scheduling;

/// <summary>Operator actions on one node: cordon, uncordon, drain, and the straggler flag a job raises.</summary>
internal sealed partial class SchedulerGrain
{
    // Why an operator cordoned or drained a node (until it is uncordoned); shown on the node and in its events.
    private readonly Dictionary<string, string> _operatorReasons = new(StringComparer.Ordinal);

    public Task<NodeInfo> Cordon(string nodeId) => Cordon(nodeId, null);

    public async Task<NodeInfo> Cordon(string nodeId, string? reason)
    {
        var node = Known(nodeId);
        if (!node.Cordoned)
        {
            _nodes[nodeId] = node = node with { Cordoned = true };
            SetReason(nodeId, reason);
            await Mark(nodeId, new OperatorNodeMark(Draining: false, _operatorReasons.GetValueOrDefault(nodeId)));
            LogOperator(logger, "cordoned", nodeId);
            await PublishCordoned(nodeId, reason, OperatorCalls.CurrentPrincipal);
        }
        else if (reason is not null)
        {
            SetReason(nodeId, reason);
            await Mark(nodeId, new OperatorNodeMark(node.Draining, _operatorReasons.GetValueOrDefault(nodeId)));
        }
        return Info(node);
    }

    public async Task<NodeInfo> Uncordon(string nodeId)
    {
        var node = Known(nodeId);
        if (node.Cordoned || node.Draining || node.Straggler is not null)
        {
            _nodes[nodeId] = node = node with { Cordoned = false, Draining = false, Straggler = null };
            _operatorReasons.Remove(nodeId);
            await Mark(nodeId, null);
            LogOperator(logger, "uncordoned", nodeId);
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeUncordoned, null, nodeId, 0, 0, 0, null,
                $"node {nodeId} uncordoned: it takes new stages again", Principal: OperatorCalls.CurrentPrincipal));
        }
        return Info(node);
    }

    public Task<NodeInfo> Drain(string nodeId) => Drain(nodeId, null);

    public async Task<NodeInfo> Drain(string nodeId, string? reason)
    {
        var node = Known(nodeId);
        _nodes[nodeId] = node = node with { Cordoned = true, Draining = true };
        SetReason(nodeId, reason);
        await Mark(nodeId, new OperatorNodeMark(Draining: true, _operatorReasons.GetValueOrDefault(nodeId)));
        LogOperator(logger, "draining", nodeId);
        await PublishDraining(nodeId, reason, OperatorCalls.CurrentPrincipal);
        // Asked, not awaited: each job moves at its own step boundary, and the scheduler's turn never waits on a job;
        // asked again while it has not (the watch loop).
        AskDrainingJobs(time.GetUtcNow(), drainedNow: nodeId);
        return Info(node);
    }

    /// <summary>
    /// Persists an operator's mark on a node (null: none), so a re-activated scheduler applies it again. Invariant: the
    /// persisted state is written one write at a time although the grain is reentrant (two operator calls can write at
    /// once). Orleans' state bridge keeps that: since 10.4 it queues one activation's storage operations, so each write
    /// goes out with the ETag of the one before (a store that checks ETags per request, as blob storage does, would
    /// refuse the second of two overlapping writes). <c>SchedulerWriteOverlapTests</c> holds it.
    /// </summary>
    private async Task Mark(string nodeId, OperatorNodeMark? mark)
    {
        if (mark is null ? !persisted.State.NodeMarks.Remove(nodeId) : persisted.State.NodeMarks.GetValueOrDefault(nodeId) == mark) return;
        if (mark is not null) persisted.State.NodeMarks[nodeId] = mark;
        await persisted.WriteStateAsync();
    }

    /// <summary>A node registering with this activation for the first time gets the operator's persisted mark back.</summary>
    private NodeRecord WithOperatorMark(NodeRecord node)
    {
        if (!persisted.State.NodeMarks.TryGetValue(node.Capabilities.NodeId, out var mark)) return node;
        SetReason(node.Capabilities.NodeId, mark.Reason);
        return node with { Cordoned = true, Draining = mark.Draining };
    }

    /// <summary>
    /// Cordons a node whose device reported itself flaky, as an operator would, with the device's verdict as the reason.
    /// Its errors age out of the node's window after a while and it would report itself healthy again, to cost its next
    /// jobs a recovery per error; a flaky device needs a person to look at it, so it takes no new stages until an operator
    /// uncordons it (a persisted mark, like an operator's: a new scheduler activation keeps it).
    /// Invariant: once per verdict — an operator who uncordons the node is not overruled until the node reports another error
    /// while it is still flaky (it reports itself flaky until its device errors age out). Never throws: it runs in the failure watch.
    /// </summary>
    private async Task CordonFlaky(NodeRecord node)
    {
        string id = node.Capabilities.NodeId;
        string reason = $"{node.Health?.LastError}; cordoned by the scheduler until an operator uncordons it";
        _flakyCordonedAt[id] = node.Health?.ErrorCount ?? 0;
        _nodes[id] = node with { Cordoned = true };
        SetReason(id, reason);
        LogFlakyCordoned(logger, id, reason);
        try
        {
            await Mark(id, new OperatorNodeMark(Draining: false, reason));
        }
        catch (Exception e)
        {
            LogFlakyCordonUnsaved(logger, e, id); // cordoned in this activation; a new one cordons it again if still flaky
        }
        await PublishCordoned(id, reason, FlakyCordonPrincipal);
    }

    /// <summary>The event of a drain, an operator's or a leaving silo's (<see cref="DrainLeaving"/>): why, who asked, and the jobs whose stages move.</summary>
    private Task PublishDraining(string nodeId, string? reason, string? principal)
    {
        var jobs = _jobs.Where(j => j.Value.Nodes.Contains(nodeId)).Select(j => j.Key).ToArray();
        return this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeDraining, null, nodeId, 0, 0, 0, null,
            jobs.Length == 0 ? $"node {nodeId} drained{Because(reason)}: it runs no stages" : $"node {nodeId} draining{Because(reason)}: the stages of {string.Join(", ", jobs)} move at their next step boundary",
            reason, principal));
    }

    /// <summary>The event of a cordon, an operator's or the scheduler's, naming who asked.</summary>
    private Task PublishCordoned(string nodeId, string? reason, string? principal) =>
        this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeCordoned, null, nodeId, 0, 0, 0, null,
            $"node {nodeId} cordoned{Because(reason)}: it keeps its stages but takes no new ones", reason, principal));

    // Node → its error count when the scheduler last cordoned it as flaky (see CordonFlaky's invariant).
    private readonly Dictionary<string, int> _flakyCordonedAt = new(StringComparer.Ordinal);

    /// <summary>Who cordons a flaky node, in its event.</summary>
    private const string FlakyCordonPrincipal = "scheduler";

    private void SetReason(string nodeId, string? reason)
    {
        if (!string.IsNullOrWhiteSpace(reason)) _operatorReasons[nodeId] = reason.Trim();
    }

    private static string Because(string? reason) => string.IsNullOrWhiteSpace(reason) ? "" : $" ({reason.Trim()})";

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
}
