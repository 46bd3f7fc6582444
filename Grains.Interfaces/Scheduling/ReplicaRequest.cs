namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>
/// What a data-parallel job asks of the scheduler: the P stage demands of one replica, the replica counts it can run
/// with (it must get at least the smallest — gang placement — and takes the largest that fits one stage per node), and
/// where its replicas run now (survivors stay where they are; their ids are kept).
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.ReplicaRequest")]
public sealed record ReplicaRequest(
    [property: Id(0)] IReadOnlyList<StageDemand> Stages,
    [property: Id(1)] IReadOnlyList<int> ReplicaCounts,
    [property: Id(2)] IReadOnlyList<ReplicaNodes> Current)
{
    /// <summary>
    /// The job's epoch the placement is for (0: not stated). The scheduler records it with the placement and refuses a
    /// request stating an older epoch than the one it holds for the job (<see cref="PlacementRefusal.StaleEpoch"/>).
    /// </summary>
    [Id(3)]
    public long Epoch { get; init; }

    /// <summary>
    /// The job may run on nodes of several device kinds (CPU and CUDA), giving up bit-identity (the job spec's
    /// <c>devicePlacement: "mixed"</c>). False: every stage and replica on one kind.
    /// </summary>
    [Id(4)]
    public bool MixedDevices { get; init; }

    /// <summary>
    /// Where the job's replicas run now, every stage naming its node (empty: as <see cref="Current"/> says). It differs
    /// from <see cref="Current"/> on a move, which blanks the nodes its stages leave. A scheduler that has not heard from
    /// the job since it restarted adopts these before deciding the ask, so nodes the job still runs on are not handed out.
    /// </summary>
    [Id(5)]
    public IReadOnlyList<ReplicaNodes> Held { get; init; } = [];
}
