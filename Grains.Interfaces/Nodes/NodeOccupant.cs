namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>
/// A stage a node runs, as the node reports it with every heartbeat: which job, in which epoch, which replica and stage.
/// The node's own word, independent of the scheduler's table and the job's state: a scheduler that restarted uses it to
/// keep nodes running stages of jobs it has not heard from yet out of placement (issue 13).
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.NodeOccupant")]
public sealed record NodeOccupant(
    [property: Id(0)] string JobId,
    [property: Id(1)] long Epoch,
    [property: Id(2)] int Replica,
    [property: Id(3)] int Stage);
