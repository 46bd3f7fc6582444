namespace Cluster.Kernels.Planning;

/// <summary>
/// The knobs of a 3-D parallel layout: pipeline depth (stages), tensor-parallel degree inside a node (with sequence
/// parallelism), sequences per micro-batch and activation recomputation. The data-parallel degree and the number
/// of micro-batches per step follow from the fleet and the global batch.
/// </summary>
public sealed record ParallelPlan(int Pipeline, int Tensor, int MicroBatchSize, ActivationRecompute Recompute)
{
    public override string ToString() => $"P={Pipeline} T={Tensor} b={MicroBatchSize} {Recompute.ToString().ToLowerInvariant()} recompute";
}
