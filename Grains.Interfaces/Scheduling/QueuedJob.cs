namespace Cluster.Grains.Interfaces.Scheduling;

/// <summary>A job waiting for nodes, in the order the scheduler will serve it, and why it waits.</summary>
[GenerateSerializer, Immutable, Alias("cluster.QueuedJob")]
public sealed record QueuedJob(
    [property: Id(0)] JobTicket Ticket,
    [property: Id(1)] int Position,
    [property: Id(2)] DateTimeOffset WaitingSince,
    [property: Id(3)] string Reason,
    [property: Id(4)] int NodesNeeded);
