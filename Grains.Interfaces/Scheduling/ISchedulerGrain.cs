using Cluster.Grains.Interfaces.Nodes;
using Cluster.Grains.Interfaces.Security;

namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>
/// Knows every node and its health and places jobs' stages on nodes. One per cluster: key
/// <see cref="SchedulerKeys.Default"/>.
/// </summary>
[Alias("cluster.ISchedulerGrain")]
public interface ISchedulerGrain : IGrainWithStringKey
{
    [Alias("Register")]
    Task Register(NodeCapabilities capabilities);

    /// <summary>Records a heartbeat; false when the node is unknown (it should register again).</summary>
    [Alias("Heartbeat")]
    Task<bool> Heartbeat(NodeHealth health);

    [Alias("GetNodes"), OperatorFacing(OperatorRole.Viewer)]
    Task<IReadOnlyList<NodeInfo>> GetNodes();

    /// <summary>Frees a job's nodes.</summary>
    [Alias("Release")]
    Task Release(string jobId);

    /// <summary>Node per stage of a job, empty when it holds no placement.</summary>
    [Alias("GetPlacement"), OperatorFacing(OperatorRole.Viewer, Scope = OperatorScope.Job)]
    Task<IReadOnlyList<string>> GetPlacement(string jobId);

    /// <summary>
    /// No new stages go to the node; the stages it runs stay. Throws <see cref="NodeNotFoundException"/> for an
    /// unknown node.
    /// </summary>
    [Alias("Cordon"), OperatorFacing(OperatorRole.Operator)]
    Task<NodeInfo> Cordon(string nodeId);

    /// <summary>Lifts a cordon or a drain: the node takes new stages again.</summary>
    [Alias("Uncordon"), OperatorFacing(OperatorRole.Operator)]
    Task<NodeInfo> Uncordon(string nodeId);

    /// <summary>
    /// Cordons the node and moves its stages away at each job's next step boundary, from their live state (no
    /// rollback). Returns at once; <see cref="NodeInfo.Stages"/> empties as the jobs move.
    /// </summary>
    [Alias("Drain"), OperatorFacing(OperatorRole.Operator)]
    Task<NodeInfo> Drain(string nodeId);

    /// <summary>
    /// A silo's own graceful shutdown: moves the stages off its node as <see cref="Drain(string)"/> does, for as long as
    /// that incarnation of the silo (<paramref name="siloAddress"/>, its parsable address) lives. Unlike an operator's
    /// drain it ends by itself: once a new incarnation of the silo is active (a rolling update restarted the machine),
    /// the node takes stages again. An operator's cordon or drain on the node stays as it was. Called by silos, not
    /// operators.
    /// </summary>
    [Alias("DrainLeaving")]
    Task<NodeInfo> DrainLeaving(string nodeId, string siloAddress);

    /// <summary>
    /// A job's word that one of its nodes is a straggler (slower than the others for many steps in a row). The node is
    /// flagged; returns true when a spare node could take its stages.
    /// </summary>
    [Alias("ReportStraggler")]
    Task<bool> ReportStraggler(string jobId, string nodeId, string reason);

    /// <summary>
    /// Elastic scale-up: a placement for the job's stages that is expected to step faster than the current one by at
    /// least the scheduler's threshold (e.g. nodes joined while the job was packed), or a refusal saying why not.
    /// Nothing changes until the job places again with the proposal as its preference.
    /// </summary>
    [Alias("ProposeFasterPlacement")]
    Task<PlacementDecision> ProposeFasterPlacement(string jobId, IReadOnlyList<StageDemand> stages);

    /// <summary>
    /// Tells the scheduler a job's priority, team and submission time before it asks for nodes (jobs without a ticket
    /// count as priority 0, team "default").
    /// </summary>
    [Alias("Enqueue")]
    Task Enqueue(JobTicket ticket);

    /// <summary>Jobs waiting for nodes, in the order they will be served.</summary>
    [Alias("GetQueue"), OperatorFacing(OperatorRole.Viewer)]
    Task<IReadOnlyList<QueuedJob>> GetQueue();

    /// <summary>Sets (or with null lifts) a team's limit on the nodes its jobs may hold at once. Persisted.</summary>
    [Alias("SetQuota"), OperatorFacing(OperatorRole.Admin)]
    Task<TeamQuota> SetQuota(string team, int? maxNodes);

    /// <summary>Every team with a quota or a running job.</summary>
    [Alias("GetQuotas"), OperatorFacing(OperatorRole.Viewer)]
    Task<IReadOnlyList<TeamQuota>> GetQuotas();

    /// <summary>
    /// Heartbeats of many nodes at once, as a silo's health aggregator forwards them; returns the ids of the nodes the
    /// scheduler does not know (they should register again).
    /// </summary>
    [Alias("HeartbeatBatch")]
    Task<IReadOnlyList<string>> HeartbeatBatch(IReadOnlyList<NodeHealth> batch);

    /// <summary>
    /// Gang placement of a data-parallel job: the largest replica count of <see cref="ReplicaRequest.ReplicaCounts"/>
    /// whose stages fit one per node (survivors of <see cref="ReplicaRequest.Current"/> stay), else the smallest count,
    /// packed if need be; never fewer. Replaces any placement the job had — only when placed: a refusal (its
    /// <see cref="ReplicaPlacement.Refusal"/> says which kind) changes nothing, and the job keeps what it holds. A job
    /// that holds no nodes waits behind queued jobs that come first and fit now (priority, then the team holding fewer
    /// nodes, then first come); its team's quota must allow the nodes; when the fleet is full, elastic jobs are asked to
    /// shrink or lower-priority ones to checkpoint and free their nodes (messages: the job is refused until they have,
    /// or until they are overdue).
    /// </summary>
    [Alias("PlaceReplicas")]
    Task<ReplicaPlacement> PlaceReplicas(string jobId, ReplicaRequest request);

    /// <summary>
    /// Elastic growth: a placement with more replicas than the job runs now, using free nodes, keeping every current
    /// replica where it is — or a refusal saying why not (no room, or another job is waiting for nodes and goes first).
    /// Nothing changes until the job places again with it.
    /// </summary>
    [Alias("ProposeMoreReplicas")]
    Task<ReplicaPlacement> ProposeMoreReplicas(string jobId, ReplicaRequest request);

    /// <summary>
    /// A job's word that its calls to these nodes failed (their silo looks dead) before the scheduler noticed: they take
    /// no stages until they heartbeat again, so the job's recovery does not land back on them. Unknown ids are ignored.
    /// </summary>
    [Alias("ReportUnreachable")]
    Task ReportUnreachable(string jobId, IReadOnlyList<string> nodeIds, string reason);

    /// <summary><see cref="Cordon(string)"/>, recording why (shown on the node and in the event) until it is uncordoned.</summary>
    [Alias("CordonWithReason"), OperatorFacing(OperatorRole.Operator)]
    Task<NodeInfo> Cordon(string nodeId, string? reason);

    /// <summary><see cref="Drain(string)"/>, recording why (shown on the node and in the event) until it is uncordoned.</summary>
    [Alias("DrainWithReason"), OperatorFacing(OperatorRole.Operator)]
    Task<NodeInfo> Drain(string nodeId, string? reason);

    /// <summary>
    /// A job asked to checkpoint and free its nodes (preemption) could not commit the checkpoint: it keeps its nodes and
    /// trains on, and tries again later. The scheduler stops counting on the request at once — another victim is asked,
    /// or the job that needed the nodes waits, saying why — instead of after the release timeout.
    /// </summary>
    [Alias("PreemptionFailed")]
    Task PreemptionFailed(string jobId, long epoch, string reason);
}
