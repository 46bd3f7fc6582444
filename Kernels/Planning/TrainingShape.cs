namespace Cluster.Kernels.Planning;

/// <summary>
/// How the model is trained: sequences per optimizer step, whether the AdamW state is sharded over the data-parallel
/// replicas (ZeRO-1 / distributed optimizer), the fraction of peak a GPU's matmuls reach, and the memory each GPU
/// keeps for the CUDA context, communication buffers and fragmentation.
/// </summary>
public sealed record TrainingShape(int GlobalBatchSequences, bool ShardOptimizerState = true, double ComputeEfficiency = 0.55, long ReservedBytesPerGpu = 4_000_000_000)
{
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (GlobalBatchSequences < 1) problems.Add($"global batch = {GlobalBatchSequences} sequences: must be at least 1.");
        if (!(ComputeEfficiency > 0 && ComputeEfficiency <= 1)) problems.Add($"compute efficiency = {ComputeEfficiency}: must be in (0, 1] (0.5 is typical for large matmuls).");
        if (ReservedBytesPerGpu < 0) problems.Add($"reserved memory = {ReservedBytesPerGpu} bytes: must be ≥ 0.");
        return problems;
    }
}
