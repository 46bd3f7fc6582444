using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Events;
using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Jobs;

/// <summary>
/// Why the job places again without a failure, and from what: preferred nodes per stage (a move), the step of the
/// in-memory snapshots to restore (live state), or a committed checkpoint (rewind). All null: the usual choice.
/// </summary>
internal sealed record PlacementRequest(IReadOnlyList<ReplicaNodes>? Preferred, long? MemoryStep, CheckpointManifest? Manifest, string Why, ClusterEventKind Kind)
{
    /// <summary>The replica counts to accept (null: every count the spec allows).</summary>
    public IReadOnlyList<int>? Counts { get; init; }

    /// <summary>An operator asked to start again from the initial weights (restore step 0).</summary>
    public bool InitialWeights { get; init; }

    /// <summary>The operator's rewind this placement applies (its caller is answered once it is applied or fails).</summary>
    public PendingRewind? Rewinding { get; init; }

    /// <summary>When what this placement carries on began, for its event's timing (a hand-over: when the last coordinator saved it); null: when the placement began.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>
    /// The placement a job's new activation takes <paramref name="handOver"/> with: the same nodes (<paramref name="nodes"/>),
    /// every stage from its live state of the handed-over step — nothing is recomputed.
    /// </summary>
    public static PlacementRequest TakeOver(CoordinatorHandOver handOver, IReadOnlyList<ReplicaNodes> nodes) =>
        new(nodes, handOver.Step, null, $"its coordinator moved from silo {handOver.FromSilo}, which is shutting down", ClusterEventKind.JobCoordinatorMoved)
        {
            Counts = [nodes.Count],
            Since = handOver.At,
        };

    /// <summary>The placement that applies an operator's rewind (<see cref="PendingRewind.Manifest"/> null: the initial weights).</summary>
    public static PlacementRequest Rewind(PendingRewind rewind, string who) =>
        new(null, null, rewind.Manifest, rewind.Manifest is null ? $"{who} to the initial weights" : $"{who} to the checkpoint at step {rewind.Manifest.Step}", ClusterEventKind.JobRewound)
        {
            InitialWeights = rewind.Manifest is null,
            Rewinding = rewind,
        };
}
