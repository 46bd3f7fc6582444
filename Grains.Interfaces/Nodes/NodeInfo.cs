namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>
/// The scheduler's view of a node: what it offers, its latest heartbeat and what runs on it (labels "job/sN").
/// <see cref="Cordoned"/>: takes no new stages; <see cref="Draining"/>: its stages are moving away; <see cref="Straggler"/>:
/// why a job flagged it as slow, if one did; <see cref="Lost"/>: the scheduler considers it failed; <see cref="Reason"/>: why
/// an operator cordoned or drained it, if they said; <see cref="HeldBack"/>: a restarted scheduler keeps it out of placement
/// for jobs that have not reported yet (null: not held). <see cref="NotPlaceable"/>: why placement gives it no new stage now
/// besides those marks — no heartbeat yet or none lately, not Ready, its silo not Active or suspected in the scheduler's
/// membership view, reported unreachable by a job (null: placeable).
/// </summary>
[GenerateSerializer, Immutable, Alias("cluster.NodeInfo")]
public sealed record NodeInfo(
    [property: Id(0)] NodeCapabilities Capabilities,
    [property: Id(1)] NodeHealth? Health,
    [property: Id(2)] DateTimeOffset? LastHeartbeatAt,
    [property: Id(3)] IReadOnlyList<string> Stages,
    [property: Id(4)] bool Cordoned = false,
    [property: Id(5)] bool Draining = false,
    [property: Id(6)] string? Straggler = null,
    [property: Id(7)] bool Lost = false,
    [property: Id(8)] string? Reason = null,
    [property: Id(9)] NodeHold? HeldBack = null,
    [property: Id(10)] string? NotPlaceable = null);
