namespace Cluster.Grains.Jobs;

/// <summary>
/// A coordinator that left with its silo (a graceful shutdown) at a step boundary: the job's state of
/// <paramref name="Step"/> — every counted step saved, its in-memory snapshots held, no checkpoint commit in flight —
/// as it stood in <paramref name="Epoch"/>. The job's next activation carries on from there like a move: it claims the
/// next epoch and configures the same stages from their live state, with no failure counted and no step recomputed.
/// Honoured only while the saved state is still that one (the same epoch and step, the job not finished); the next
/// placement's epoch claim clears it.
/// </summary>
[GenerateSerializer, Alias("cluster.CoordinatorHandOver")]
public sealed record CoordinatorHandOver(
    [property: Id(0)] long Epoch,
    [property: Id(1)] long Step,
    [property: Id(2)] string FromSilo,
    [property: Id(3)] DateTimeOffset At);
