using Cluster.Kernels.Config;

namespace Cluster.Kernels.Planning;

/// <summary>
/// Plans 3-D parallel training (pipeline × tensor × data) of a decoder on a fleet: memory per GPU, refusal with the
/// reason when a layout does not fit, and an estimated step time to choose the fastest layout that does.
/// </summary>
/// <remarks>
/// Memory per GPU of a stage holding Ψs parameters, with tensor degree T and data degree D (mixed precision, AdamW):
/// weights and gradients dtype·Ψs/T each, optimizer 12·Ψs/T (fp32 master, first and second moments), divided by D
/// when sharded. Activations per block and micro-batch of b sequences of s tokens (Korthikanti et al. 2022, with
/// sequence parallelism): s·b·d·(34 + 5·a·s/d)/T bytes kept in full, s·b·d·34/T with selective recomputation,
/// s·b·d·2/T with full recomputation (plus one block's full set while it is recomputed), scaled by dtype/2. Under
/// 1F1B stage i holds min(P − i, M) micro-batches in flight; the last stage also keeps fp32 logits (4·s·b·V/T).
/// Step time: (M + P − 1) micro-batch slots of the slowest stage (compute at peak × efficiency, tensor-parallel
/// collectives over NVLink, stage-boundary transfers over the NIC), plus the data-parallel gradient exchange
/// 2·(D − 1)/D · gradient bytes over the NIC, counted as not overlapped.
/// </remarks>
public static class TrainingPlanner
{
    private static readonly int[] s_microBatchSizes = [1, 2, 4, 8];

    /// <summary>The fastest layout that fits, or a refusal with the reason of the leanest one.</summary>
    public static PlanningResult Plan(ModelShape model, FleetShape fleet, TrainingShape training)
    {
        EnsureValid(model, fleet, training);
        var considered = new List<PlanEstimate>();
        for (int t = 1; t <= fleet.GpusPerNode && t <= fleet.Gpus; t *= 2)
        {
            if (model.Heads % t != 0) continue;
            for (int p = 1; p <= model.Layers && p * t <= fleet.Gpus; p++)
                foreach (int b in s_microBatchSizes)
                    foreach (var recompute in Enum.GetValues<ActivationRecompute>())
                    {
                        var estimate = Estimate(model, fleet, training, new ParallelPlan(p, t, b, recompute));
                        if (estimate.DataParallel > 0) considered.Add(estimate);
                    }
        }
        var best = considered.Where(e => e.Fits)
            .OrderBy(e => e.StepSeconds).ThenBy(e => e.GpusUsed).ThenBy(e => e.Plan.Pipeline).ThenBy(e => e.Plan.Tensor).ThenBy(e => e.Plan.MicroBatchSize)
            .FirstOrDefault();
        if (best is not null)
            return new PlanningResult(best, considered, null);
        if (considered.Count == 0)
            return new PlanningResult(null, considered,
                $"No layout divides the global batch of {training.GlobalBatchSequences} sequences: use a global batch with more small factors (e.g. a power of 2).");
        var leanest = considered.OrderBy(e => e.Memory.Total).First();
        return new PlanningResult(null, considered, $"No layout fits {model.Name} on {fleet.Name}; the leanest, {leanest.Plan}, D={leanest.DataParallel}: {leanest.Reason}");
    }

    /// <summary>One layout's memory, fit and speed. A layout that cannot be built at all has <see cref="PlanEstimate.DataParallel"/> 0.</summary>
    public static PlanEstimate Estimate(ModelShape model, FleetShape fleet, TrainingShape training, ParallelPlan plan)
    {
        EnsureValid(model, fleet, training);
        ArgumentNullException.ThrowIfNull(plan);
        if (StructuralProblem(model, fleet, training, plan) is { } problem)
            return new PlanEstimate(plan, 0, 0, 0, new MemoryPerGpu(0, 0, 0, 0, 0), false, problem, 0, 0, 0, 0);

        int p = plan.Pipeline, t = plan.Tensor, b = plan.MicroBatchSize;
        int d = LargestDataDegree(fleet.Gpus / (p * t), training.GlobalBatchSequences / b);
        int m = training.GlobalBatchSequences / (b * d);

        // Stage 0 holds the embeddings and the most blocks (extra blocks go to the first stages) and the most micro-batches
        // in flight; the last stage holds the LM head and the logits. Middle stages need no more than stage 0.
        int firstBlocks = model.Layers / p + (model.Layers % p > 0 ? 1 : 0);
        int lastBlocks = p == 1 ? model.Layers : model.Layers / p;
        var first = Stage(model, training, plan, d, m, firstBlocks, embeddings: true, head: p == 1, inFlight: Math.Min(p, m));
        var last = p == 1 ? first : Stage(model, training, plan, d, m, lastBlocks, embeddings: false, head: true, inFlight: 1);
        var memory = first.Total >= last.Total ? first : last;

        double slot = Math.Max(MicroBatchSeconds(model, fleet, training, plan, firstBlocks, head: p == 1),
                               MicroBatchSeconds(model, fleet, training, plan, lastBlocks, head: true));
        double gradientBytes = (double)Math.Max(StageParameters(model, firstBlocks, true, p == 1), StageParameters(model, lastBlocks, false, true)) * model.DTypeBytes / t;
        double dataParallel = d > 1 ? 2.0 * (d - 1) / d * gradientBytes / (fleet.InterNodeGBps * 1e9) : 0;
        double step = (m + p - 1) * slot + dataParallel;
        double tokens = (double)training.GlobalBatchSequences * model.Context;
        double modelFlops = tokens * ModelFlopsPerToken(model);
        int gpus = p * t * d;
        double mfu = modelFlops / (step * gpus * fleet.PeakTflops * 1e12);

        bool fits = memory.Total <= fleet.GpuMemoryBytes;
        string? reason = fits ? null
            : $"needs {memory} per GPU but a GPU has {MemoryPerGpu.Size(fleet.GpuMemoryBytes)}: {Advice(plan, memory, training.ShardOptimizerState && d > 1)}";
        return new PlanEstimate(plan, d, m, gpus, memory, fits, reason, (p - 1.0) / (m + p - 1.0), step, tokens / step, mfu);
    }

    /// <summary>Training FLOPs per token without recomputation: 6 per parameter plus attention's 12·L·d·s.</summary>
    public static double ModelFlopsPerToken(ModelShape model) =>
        6.0 * model.ParameterCount + 12.0 * model.Layers * model.DModel * model.Context;

    /// <summary>Bytes of activations one block keeps for one micro-batch on one GPU.</summary>
    public static long ActivationBytesPerBlock(ModelShape model, int tensor, int microBatchSize, ActivationRecompute recompute)
    {
        double sbd = (double)model.Context * microBatchSize * model.DModel;
        double perToken = recompute switch
        {
            ActivationRecompute.None => 34 + 5.0 * model.Heads * model.Context / model.DModel,
            ActivationRecompute.Selective => 34,
            _ => 2,
        };
        return (long)Math.Ceiling(sbd * perToken / tensor * model.DTypeBytes / 2);
    }

    private static MemoryPerGpu Stage(ModelShape model, TrainingShape training, ParallelPlan plan, int data, int microBatches, int blocks, bool embeddings, bool head, int inFlight)
    {
        long parameters = StageParameters(model, blocks, embeddings, head);
        int t = plan.Tensor;
        long weights = Divide(parameters * model.DTypeBytes, t);
        long optimizer = Divide(parameters * 12, (long)t * (training.ShardOptimizerState ? data : 1));
        long activations = blocks * ActivationBytesPerBlock(model, t, plan.MicroBatchSize, plan.Recompute) * Math.Min(inFlight, microBatches);
        if (plan.Recompute == ActivationRecompute.Full)
            activations += ActivationBytesPerBlock(model, t, plan.MicroBatchSize, ActivationRecompute.None); // the block being recomputed
        if (head)
            activations += Divide(4L * model.Context * plan.MicroBatchSize * model.Vocab, t);
        return new MemoryPerGpu(weights, weights, optimizer, activations, training.ReservedBytesPerGpu);
    }

    private static long StageParameters(ModelShape model, int blocks, bool embeddings, bool head) =>
        blocks * model.BlockParameters + (embeddings ? model.EmbeddingParameters : 0) + (head ? model.HeadParameters : 0);

    private static double MicroBatchSeconds(ModelShape model, FleetShape fleet, TrainingShape training, ParallelPlan plan, int blocks, bool head)
    {
        double tokens = (double)plan.MicroBatchSize * model.Context;
        double d = model.DModel, s = model.Context;
        double flopsPerToken = 6.0 * (blocks * model.BlockParameters + (head ? (double)model.Vocab * d : 0)) + 12.0 * blocks * d * s;
        flopsPerToken += plan.Recompute switch
        {
            ActivationRecompute.Full => 2.0 * blocks * model.BlockParameters + 4.0 * blocks * d * s, // the forward pass again
            ActivationRecompute.Selective => 4.0 * blocks * d * s, // scores and softmax again
            _ => 0,
        };
        double compute = tokens * flopsPerToken / (plan.Tensor * fleet.PeakTflops * 1e12 * training.ComputeEfficiency);
        double boundary = tokens * d * model.DTypeBytes;
        // Sequence-parallel blocks: 2 all-gathers + 2 reduce-scatters forward, as many backward, 4 more when recomputed.
        int collectives = plan.Recompute == ActivationRecompute.Full ? 12 : 8;
        double tensorComm = plan.Tensor > 1 ? blocks * collectives * (plan.Tensor - 1.0) / plan.Tensor * boundary / (fleet.IntraNodeGBps * 1e9) : 0;
        double pipelineComm = plan.Pipeline > 1 ? 2 * boundary / plan.Tensor / (fleet.InterNodeGBps * 1e9) : 0;
        return compute + tensorComm + pipelineComm;
    }

    private static string? StructuralProblem(ModelShape model, FleetShape fleet, TrainingShape training, ParallelPlan plan)
    {
        if (plan.Pipeline < 1 || plan.Tensor < 1 || plan.MicroBatchSize < 1)
            return "pipeline depth, tensor degree and micro-batch size must each be at least 1.";
        if (plan.Pipeline > model.Layers)
            return $"{plan.Pipeline} pipeline stages for {model.Layers} blocks: a stage needs at least one block; use at most {model.Layers} stages.";
        if (plan.Tensor > fleet.GpusPerNode)
            return $"tensor degree {plan.Tensor} exceeds the {fleet.GpusPerNode} GPUs of a node: tensor parallelism needs NVLink, keep it inside a node.";
        if (model.Heads % plan.Tensor != 0)
            return $"tensor degree {plan.Tensor} does not divide the {model.Heads} attention heads.";
        if ((long)plan.Pipeline * plan.Tensor > fleet.Gpus)
            return $"P·T = {plan.Pipeline * plan.Tensor} GPUs per replica but the fleet has {fleet.Gpus}.";
        if (training.GlobalBatchSequences % plan.MicroBatchSize != 0)
            return $"micro-batch size {plan.MicroBatchSize} does not divide the global batch of {training.GlobalBatchSequences} sequences.";
        return null;
    }

    /// <summary>The largest data-parallel degree that fits the GPUs and splits the micro-batches evenly (at least 1).</summary>
    private static int LargestDataDegree(int maxByGpus, int microBatchesInBatch)
    {
        for (int d = Math.Min(maxByGpus, microBatchesInBatch); d > 1; d--)
            if (microBatchesInBatch % d == 0) return d;
        return 1;
    }

    private static string Advice(ParallelPlan plan, MemoryPerGpu memory, bool optimizerSharded)
    {
        if (memory.Activations >= memory.Weights + memory.Gradients + memory.OptimizerState)
            return plan.Recompute == ActivationRecompute.Full
                ? "activations dominate: use a smaller micro-batch or a higher tensor degree."
                : "activations dominate: recompute activations (full), use a smaller micro-batch or a higher tensor degree.";
        return optimizerSharded
            ? "model state dominates: use more pipeline stages or a higher tensor degree."
            : "model state dominates: use more pipeline stages or a higher tensor degree, or shard the optimizer state.";
    }

    private static long Divide(long value, long by) => (value + by - 1) / by;

    private static void EnsureValid(ModelShape model, FleetShape fleet, TrainingShape training)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(training);
        var problems = model.Validate().Concat(fleet.Validate()).Concat(training.Validate()).ToArray();
        if (problems.Length > 0)
            throw new ConfigValidationException("Planner input", problems);
    }
}
