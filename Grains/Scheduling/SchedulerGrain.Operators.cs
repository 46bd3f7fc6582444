using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Security;

namespace Cluster.Grains.Scheduling;

/// <summary>Operator actions on one node: cordon, uncordon, drain, and the straggler flag a job raises.</summary>
internal sealed partial class SchedulerGrain
{
    public async Task<NodeInfo> Cordon(string nodeId)
    {
        var node = Known(nodeId);
        if (!node.Cordoned)
        {
            _nodes[nodeId] = node = node with { Cordoned = true };
            LogOperator(logger, "cordoned", nodeId);
            await this.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.NodeCordoned, null, nodeId, 0, 0, 0, null,
                $"node {nodeId} cordoned: it keeps its stages but takes no new ones", OperatorCalls.CurrentPrincipal));
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
                $"node {nodeId} uncordoned: it takes new stages again", OperatorCalls.CurrentPrincipal));
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
            jobs.Length == 0 ? $"node {nodeId} drained: it runs no stages" : $"node {nodeId} draining: the stages of {string.Join(", ", jobs)} move at their next step boundary",
            OperatorCalls.CurrentPrincipal));
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
}
