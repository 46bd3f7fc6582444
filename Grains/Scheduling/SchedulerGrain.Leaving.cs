using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Nodes;
using Orleans.Runtime;

namespace Cluster.Grains.Scheduling;

/// <summary>
/// A silo's graceful shutdown drains its nodes (<c>DrainOnShutdown</c>) for that incarnation of the silo only.
/// <para>
/// Invariant (a leave is not a decision about the machine): a node drained by its silo's shutdown takes no new stages
/// while that incarnation lives, and takes stages again as soon as a new incarnation of the silo (same name, another
/// address) is active in membership — whether the scheduler hears it from the node's registration or from its watch
/// loop, and in a scheduler re-activated meanwhile (the mark is persisted with the address it ends with). Before this, a
/// shutdown drain was an operator's drain, persisted until someone uncordoned the node: a rolling update left every
/// restarted machine drained, and the last silo to leave had nowhere to move its stages (found by
/// <c>RollingRestartProcessTests</c>: its drain timed out and the job recovered). An operator's own cordon or drain is a
/// separate mark and outlives the leave.
/// </para>
/// </summary>
internal sealed partial class SchedulerGrain
{
    public async Task<NodeInfo> DrainLeaving(string nodeId, string siloAddress)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(siloAddress);
        try
        {
            _ = SiloAddress.FromParsableString(siloAddress);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"'{siloAddress}' is not a parsable silo address (SiloAddress.ToParsableString()): the leaving silo names itself with it.", nameof(siloAddress), e);
        }
        var node = Known(nodeId);
        if (node.LeavingWith != siloAddress)
        {
            _nodes[nodeId] = node = node with { LeavingWith = siloAddress };
            persisted.State.LeavingNodes[nodeId] = siloAddress;
            try
            {
                await persisted.WriteStateAsync();
            }
            catch (Exception e)
            {
                // The leave holds in this activation, which is what moves the stages now; only a scheduler re-activated
                // during it would not know. A storage outage must not stop a machine from leaving gracefully.
                LogLeaveUnsaved(logger, e, nodeId);
            }
            LogLeaving(logger, nodeId, siloAddress);
            await PublishDraining(nodeId, LeavingReason, principal: null);
        }
        AskDrainingJobs(time.GetUtcNow(), drainedNow: nodeId);
        return Info(node);
    }

    /// <summary>The reason a leaving node shows, and its drain's event carries.</summary>
    private const string LeavingReason = "its silo is shutting down";

    /// <summary>Why a node moves its stages off or takes none: the operator's reason, else its silo's leave.</summary>
    private string? DrainReason(string nodeId) =>
        _operatorReasons.GetValueOrDefault(nodeId) ?? (_nodes.GetValueOrDefault(nodeId)?.LeavingWith is not null ? LeavingReason : null);

    /// <summary>A node registering with this activation for the first time keeps its persisted leave while that incarnation of its silo may still live.</summary>
    private NodeRecord WithLeavingMark(NodeRecord node) =>
        persisted.State.LeavingNodes.TryGetValue(node.Capabilities.NodeId, out var address) ? node with { LeavingWith = address } : node;

    /// <summary>
    /// Ends the leave of every node whose silo is active again as a new incarnation (the class's invariant). A persisted
    /// mark of a node this activation has not heard from is applied when the node registers, and ends here then.
    /// </summary>
    private async Task ReturnRestartedNodes()
    {
        if (!_nodes.Values.Any(n => n.LeavingWith is not null)) return; // the usual case
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active)
            .Select(m => (m.Name, Address: m.SiloAddress.ToParsableString())).ToArray();
        var back = _nodes.Values.Where(n => n.LeavingWith is { } leftAs && active.Any(m => m.Name == n.Capabilities.SiloName && m.Address != leftAs)).ToArray();
        if (back.Length == 0) return;
        foreach (var node in back) // all before any await: the grain is reentrant
        {
            _nodes[node.Capabilities.NodeId] = node with { LeavingWith = null };
            persisted.State.LeavingNodes.Remove(node.Capabilities.NodeId);
        }
        string ids = string.Join(", ", back.Select(n => n.Capabilities.NodeId));
        try
        {
            await persisted.WriteStateAsync();
        }
        catch (Exception e)
        {
            LogReturnUnsaved(logger, e, ids); // ended in this activation; a re-activated one ends it again from membership
        }
        foreach (var node in back)
        {
            string id = node.Capabilities.NodeId;
            LogReturned(logger, id, active.First(m => m.Name == node.Capabilities.SiloName).Address);
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeUncordoned, null, id, 0, 0, 0, null,
                $"node {id} takes new stages again: its silo is back after a graceful leave"));
        }
    }
}
