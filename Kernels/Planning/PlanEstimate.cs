namespace Cluster.Kernels.Planning;

/// <summary>
/// A plan with what follows from it: data-parallel degree, micro-batches per step, memory per GPU, whether it fits
/// (else why not), the pipeline bubble and the estimated step time, throughput and model-FLOP utilisation.
/// </summary>
public sealed record PlanEstimate(
    ParallelPlan Plan,
    int DataParallel,
    int MicroBatches,
    int GpusUsed,
    MemoryPerGpu Memory,
    bool Fits,
    string? Reason,
    double BubbleFraction,
    double StepSeconds,
    double TokensPerSecond,
    double ModelFlopsUtilization);
