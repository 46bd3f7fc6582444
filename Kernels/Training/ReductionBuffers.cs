namespace Cluster.Kernels.Training;

/// <summary>
/// The arrays a data-parallel stage's all-reduce hands to its peers, kept from step to step by the stage's executor
/// (<see cref="StageExecutor.Reduction"/>; issue 16: fresh ones — a chunk of a stage's gradients each, 1.75 MB per
/// rank and step for the demo model's two replicas — cost their page faults and copies on the all-reduce's critical
/// path, where every rank's device waits). Not thread-safe: the stage's turns use it, one at a time.
/// <para>
/// Invariant (a handed-over array is read only within its step): a peer reads what it was handed — this rank's chunk of
/// its local gradients (<see cref="Outgoing"/>), this rank's reduced chunk (<see cref="Reduced"/>) — by reference on
/// its silo (<c>Immutable</c>) or as a serialised copy, and is done with it before its own all-reduce of that step
/// completes: the sum reads the first, the gradients take the second. The job starts the next step only once every
/// rank's gradient norms are back, and each rank's norms wait for its all-reduce; so by the time this rank overwrites an
/// array (its next step's all-reduce) every reader of the step before has finished. A reader of an abandoned epoch may
/// still read an array being overwritten: its sum is thrown away, because it is fenced by its epoch before its
/// gradients take anything (<c>PipelineStageGrain.ReduceScatterAllGather</c>). Nor does work of an abandoned epoch
/// write a later one's arrays: they belong to one executor, which is new with every configuration of the stage
/// (<see cref="StageExecutor"/>'s invariant on reused buffers).
/// </para>
/// </summary>
public sealed class ReductionBuffers
{
    private readonly Dictionary<int, float[]> _outgoing = [];
    private float[]? _reduced;

    /// <summary>The array this rank's <paramref name="chunk"/> of its local gradients is copied into for the peer that reduces it.</summary>
    public float[] Outgoing(int chunk, int length) =>
        _outgoing.TryGetValue(chunk, out var kept) && kept.Length == length ? kept : _outgoing[chunk] = new float[length];

    /// <summary>The array this rank's reduced chunk is summed into, read by every peer.</summary>
    public float[] Reduced(int length) => _reduced is { } kept && kept.Length == length ? kept : _reduced = new float[length];
}
