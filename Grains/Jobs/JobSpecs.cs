using System.Text.RegularExpressions;
using Cluster.Grains.Interfaces.Jobs;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Training;

namespace Cluster.Grains.Jobs;

/// <summary>Validates job specs (every problem at once, each with its field path) and maps them to Kernels' configs.</summary>
public static partial class JobSpecs
{
    public const int MaxJobIdLength = 64;

    /// <summary>
    /// Upper bounds of a spec's sizes (the model's own are on <see cref="ModelConfig"/>): a spec over any of them is
    /// refused, naming the field and the limit, before anything is planned or allocated.
    /// </summary>
    public const int MaxStages = 256;

    public const int MaxMicroBatches = 4096;

    public const int MaxMicroBatchSize = 4096;

    /// <summary>Steps of one job: the loss history (8 bytes a step) lives in the job's persisted state.</summary>
    public const int MaxSteps = 1_000_000;

    public const int MaxKeepCheckpoints = 1000;

    /// <summary>Most failure domains a stage's in-memory snapshot may be held in (each copy costs the stage's state in memory).</summary>
    public const int MaxSnapshotReplicas = 4;

    /// <summary>Tokens of one micro-batch (micro-batch size × context length): the sampler's buffers.</summary>
    public const long MaxTokensPerMicroBatch = 1L << 22;

    /// <summary>Elements of the largest activation of one micro-batch (the logits, or a block's attention scores): 16 GiB of float32.</summary>
    public const long MaxActivationElements = 1L << 32;

    public const int MaxDataSourceLength = 4096;

    public static ModelConfig ToModelConfig(ModelSpec model) => new()
    {
        VocabSize = model.VocabSize,
        ContextLength = model.ContextLength,
        DModel = model.DModel,
        Layers = model.Layers,
        Heads = model.Heads,
        MlpRatio = model.MlpRatio,
        Seed = model.Seed,
    };

    public static OptimizerConfig ToOptimizerConfig(OptimizerSpec optimizer, int steps) => new()
    {
        LearningRate = optimizer.LearningRate,
        MinLearningRate = optimizer.MinLearningRate,
        WarmupSteps = optimizer.WarmupSteps,
        DecaySteps = optimizer.DecaySteps > 0 ? optimizer.DecaySteps : Math.Max(1, steps),
        Beta1 = optimizer.Beta1,
        Beta2 = optimizer.Beta2,
        Epsilon = optimizer.Epsilon,
        WeightDecay = optimizer.WeightDecay,
        ClipNorm = optimizer.ClipNorm,
    };

    /// <summary>A job spec that trains exactly what a reference trainer with <paramref name="options"/> trains.</summary>
    public static JobSpec FromTrainerOptions(string jobId, TrainerOptions options, int stages, int steps, int checkpointInterval)
    {
        var m = options.Model;
        var o = options.Optimizer;
        return new JobSpec
        {
            JobId = jobId,
            Model = new ModelSpec { VocabSize = m.VocabSize, ContextLength = m.ContextLength, DModel = m.DModel, Layers = m.Layers, Heads = m.Heads, MlpRatio = m.MlpRatio, Seed = m.Seed },
            Optimizer = new OptimizerSpec
            {
                LearningRate = o.LearningRate, MinLearningRate = o.MinLearningRate, WarmupSteps = o.WarmupSteps, DecaySteps = o.DecaySteps,
                Beta1 = o.Beta1, Beta2 = o.Beta2, Epsilon = o.Epsilon, WeightDecay = o.WeightDecay, ClipNorm = o.ClipNorm,
            },
            Stages = stages,
            MicroBatches = options.MicroBatches,
            MicroBatchSize = options.MicroBatchSize,
            Steps = steps,
            CheckpointInterval = checkpointInterval,
            DataSeed = options.DataSeed,
        };
    }

    /// <summary>
    /// The reference trainer's options for <paramref name="spec"/>: the same model, optimizer, batches and data, so its
    /// losses are what the cluster must reproduce bit for bit (with the device workers' thread count).
    /// </summary>
    public static TrainerOptions ToTrainerOptions(JobSpec spec, int threads) => new()
    {
        Model = ToModelConfig(spec.Model),
        Optimizer = ToOptimizerConfig(spec.Optimizer, spec.Steps),
        MicroBatchSize = spec.MicroBatchSize,
        MicroBatches = spec.MicroBatches,
        DataSeed = spec.DataSeed,
        Device = "cpu",
        Threads = threads,
    };

    /// <summary>The stage plan of a (valid) spec: explicit layer counts when given, else balanced by cost.</summary>
    public static StagePlan PlanOf(JobSpec spec)
    {
        var config = ToModelConfig(spec.Model);
        return spec.LayersPerStage is { Length: > 0 } layers ? StagePlan.FromLayerCounts(config, layers) : StagePlan.Balanced(config, spec.Stages);
    }

    /// <summary>
    /// Every problem with a spec, each prefixed by its field path; empty when the spec is valid. Bounded work: every
    /// size is checked against its limit first, so a hostile spec costs no more than a valid one.
    /// <paramref name="dataSourceProblem"/> returns why the data source cannot be used on this silo, or null.
    /// </summary>
    public static IReadOnlyList<string> Validate(JobSpec spec, string? expectedJobId = null, Func<string, string?>? dataSourceProblem = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.JobId))
            problems.Add("jobId: is empty; give the job a name of letters, digits, '.', '_' or '-'.");
        else if (spec.JobId.Length > MaxJobIdLength || !JobIdPattern().IsMatch(spec.JobId))
            problems.Add($"jobId: '{Printable(spec.JobId)}' may hold only letters, digits, '.', '_' and '-' (at most {MaxJobIdLength}, not starting with '.').");
        else if (expectedJobId is not null && spec.JobId != expectedJobId)
            problems.Add($"jobId: '{spec.JobId}' was submitted to job '{expectedJobId}'; submit it to the grain of the same id.");

        if (spec.Model is null) problems.Add("model: is missing.");
        else problems.AddRange(ToModelConfig(spec.Model).Validate().Select(p => $"model.{Camel(p)}"));
        if (spec.Optimizer is null) problems.Add("optimizer: is missing.");
        else problems.AddRange(ToOptimizerConfig(spec.Optimizer, spec.Steps).Validate().Select(p => $"optimizer.{Camel(p)}"));

        if (spec.Steps < 1)
            problems.Add($"steps: {spec.Steps}; a job trains at least 1 step.");
        else if (spec.Steps > MaxSteps)
            problems.Add($"steps: {spec.Steps} exceeds the limit of {MaxSteps}; split the run into several jobs.");
        if (spec.MicroBatches < 1)
            problems.Add($"microBatches: {spec.MicroBatches}; a step needs at least 1 micro-batch.");
        else if (spec.MicroBatches > MaxMicroBatches)
            problems.Add($"microBatches: {spec.MicroBatches} exceeds the limit of {MaxMicroBatches}.");
        if (spec.MicroBatchSize < 1)
            problems.Add($"microBatchSize: {spec.MicroBatchSize}; a micro-batch holds at least 1 sequence.");
        else if (spec.MicroBatchSize > MaxMicroBatchSize)
            problems.Add($"microBatchSize: {spec.MicroBatchSize} exceeds the limit of {MaxMicroBatchSize}.");
        if (spec.CheckpointInterval < 0)
            problems.Add($"checkpointInterval: {spec.CheckpointInterval}; use 0 (only at the end) or a positive step count.");
        else if (spec.CheckpointInterval > MaxSteps)
            problems.Add($"checkpointInterval: {spec.CheckpointInterval} exceeds the limit of {MaxSteps}.");
        if (spec.SnapshotInterval < 0 || spec.SnapshotInterval > MaxSteps)
            problems.Add($"snapshotInterval: {spec.SnapshotInterval}; use 0 (only at checkpoints) up to the limit of {MaxSteps}.");
        if (spec.SnapshotReplicas < 2 || spec.SnapshotReplicas > MaxSnapshotReplicas)
            problems.Add($"snapshotReplicas: {spec.SnapshotReplicas}; use 2 (the stage's silo and one other: any single failure is free) up to {MaxSnapshotReplicas}.");
        if (spec.KeepCheckpoints < 1)
            problems.Add($"keepCheckpoints: {spec.KeepCheckpoints}; keep at least 1 checkpoint.");
        else if (spec.KeepCheckpoints > MaxKeepCheckpoints)
            problems.Add($"keepCheckpoints: {spec.KeepCheckpoints} exceeds the limit of {MaxKeepCheckpoints}.");
        problems.AddRange(ActivationProblems(spec));
        if (spec.Schedule is not ("1f1b" or "gpipe"))
            problems.Add($"schedule: '{Printable(spec.Schedule ?? "")}'; use '1f1b' or 'gpipe'.");
        if (spec.Priority is < -1000 or > 1000)
            problems.Add($"priority: {spec.Priority}; use a value from -1000 to 1000 (higher runs first, 0 is the default).");
        if (string.IsNullOrWhiteSpace(spec.Team) || spec.Team.Length > 64 || !spec.Team.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            problems.Add($"team: '{Printable(spec.Team ?? "")}'; use 1–64 letters, digits, '-', '_' or '.' (e.g. 'research').");
        if (spec.ScaleUp is not ("auto" or "off"))
            problems.Add($"scaleUp: '{Printable(spec.ScaleUp ?? "")}'; use 'auto' (move onto nodes that join when that is faster) or 'off'.");
        if (spec.DevicePlacement is not ("same" or "mixed"))
            problems.Add($"devicePlacement: '{Printable(spec.DevicePlacement ?? "")}'; use 'same' (all stages on one device kind, bit-identical) or 'mixed' (CPU and CUDA together, not bit-identical).");
        problems.AddRange(ReplicaProblems(spec));
        if (string.IsNullOrWhiteSpace(spec.DataSource))
            problems.Add("dataSource: is empty; use 'synthetic' or the path of a text or uint16 .bin token file.");
        else if (spec.DataSource.Length > MaxDataSourceLength || spec.DataSource.Any(char.IsControl))
            problems.Add($"dataSource: is longer than {MaxDataSourceLength} characters or holds control characters; give a plain path.");
        else if (dataSourceProblem?.Invoke(spec.DataSource) is { } dataProblem)
            problems.Add($"dataSource: {dataProblem}");

        if (spec.Model is not null && ToModelConfig(spec.Model).Validate().Count == 0)
        {
            int units = spec.Model.Layers + 2;
            if (spec.LayersPerStage is { Length: > 0 } layers)
            {
                if (layers.Length > MaxStages)
                    problems.Add($"layersPerStage: has {layers.Length} entries, more than the limit of {MaxStages} stages.");
                else if (layers.Any(c => c > ModelConfig.MaxLayers))
                    problems.Add($"layersPerStage: an entry exceeds the limit of {ModelConfig.MaxLayers} layers.");
                else
                    problems.AddRange(LayerCountProblems(spec.Model, layers));
                if (spec.Stages != layers.Length)
                    problems.Add($"stages: {spec.Stages} but layersPerStage has {layers.Length} entries; make them agree.");
            }
            else if (spec.Stages < 1 || spec.Stages > Math.Min(units, MaxStages))
            {
                problems.Add($"stages: {spec.Stages}; must be between 1 and {Math.Min(units, MaxStages)} (the model's {spec.Model.Layers} layers plus embedding and head, at most {MaxStages}).");
            }
        }
        if (problems.Count == 0) problems.AddRange(DataParallelProblems(spec));
        return problems;
    }

    /// <summary>
    /// Every problem with a spec (see <see cref="Validate(JobSpec, string?, Func{string, string?}?)"/>), where
    /// <paramref name="dataSourceExists"/> only says whether the data source can be opened.
    /// </summary>
    public static IReadOnlyList<string> Validate(JobSpec spec, string? expectedJobId, Func<string, bool>? dataSourceExists) =>
        Validate(spec, expectedJobId, dataSourceExists is null ? null : (Func<string, string?>)(source => dataSourceExists(source) ? null
            : $"'{source}' cannot be used on this silo: it does not exist, lies outside the silo's data roots (TrainingCluster:DataRoots) or is not a regular file of a supported size; every silo hosting a first or last stage needs the file at that path."));

    private static IEnumerable<string> LayerCountProblems(ModelSpec model, int[] layers)
    {
        try
        {
            StagePlan.FromLayerCounts(ToModelConfig(model), layers);
            return [];
        }
        catch (ConfigValidationException e)
        {
            return e.Problems.Select(p => $"layersPerStage: {p}");
        }
    }

    /// <summary>The largest buffers of one micro-batch must fit a node: sampler tokens, logits, attention scores.</summary>
    private static IEnumerable<string> ActivationProblems(JobSpec spec)
    {
        if (spec.Model is null || spec.MicroBatchSize is < 1 or > MaxMicroBatchSize || ToModelConfig(spec.Model).Validate().Count > 0)
            yield break;
        long tokens = (long)spec.MicroBatchSize * spec.Model.ContextLength;
        if (tokens > MaxTokensPerMicroBatch)
            yield return $"microBatchSize: {spec.MicroBatchSize} × model.contextLength {spec.Model.ContextLength} = {tokens} tokens per micro-batch exceeds the limit of {MaxTokensPerMicroBatch}.";
        else if (tokens * spec.Model.VocabSize > MaxActivationElements)
            yield return $"microBatchSize: {spec.MicroBatchSize} × model.contextLength {spec.Model.ContextLength} × model.vocabSize {spec.Model.VocabSize} logits per micro-batch exceed the limit of {MaxActivationElements} elements.";
        else if (tokens * spec.Model.Heads * spec.Model.ContextLength > MaxActivationElements)
            yield return $"microBatchSize: {spec.MicroBatchSize} × model.heads {spec.Model.Heads} × model.contextLength² {(long)spec.Model.ContextLength * spec.Model.ContextLength} attention scores per micro-batch exceed the limit of {MaxActivationElements} elements.";
    }

    /// <summary>
    /// A data-parallel stage's all-reduce holds its gradients in one float32 vector (<c>StageExecutor.LocalGradients</c>):
    /// with more than one replica, no stage may hold more parameters than a .NET array holds values
    /// (<see cref="Array.MaxLength"/>). Told at submission, not as an overflow at the first step. For a valid spec only.
    /// </summary>
    private static IEnumerable<string> DataParallelProblems(JobSpec spec)
    {
        if (spec.MaxReplicas < 2) yield break;
        var plan = PlanOf(spec);
        var over = Enumerable.Range(0, plan.StageCount)
            .Select(s => (Stage: s, Units: plan.UnitRange(s)))
            .Select(s => (s.Stage, Parameters: Enumerable.Range(s.Units.Start, s.Units.End - s.Units.Start).Sum(u => ModelLayout.UnitParameters(plan.Config, u))))
            .Where(s => s.Parameters > Array.MaxLength).ToArray();
        if (over.Length == 0) yield break;
        var largest = over.MaxBy(s => s.Parameters);
        yield return $"maxReplicas: {spec.MaxReplicas}, but {over.Length} stage(s) hold more parameters than a data-parallel stage's gradient vector holds ({Array.MaxLength}): "
            + $"stage {largest.Stage} holds {largest.Parameters}. Spread the model over more stages (stages or layersPerStage) so that none holds more, or set maxReplicas to 1.";
    }

    private static IEnumerable<string> ReplicaProblems(JobSpec spec)
    {
        if (spec.MinReplicas < 1)
            yield return $"minReplicas: {spec.MinReplicas}; a job runs at least 1 replica.";
        if (spec.MaxReplicas > ReplicaSplit.MaxReplicas)
            yield return $"maxReplicas: {spec.MaxReplicas}; at most {ReplicaSplit.MaxReplicas}.";
        if (spec.MaxReplicas < spec.MinReplicas)
            yield return $"maxReplicas: {spec.MaxReplicas} is below minReplicas {spec.MinReplicas}; set maxReplicas ≥ minReplicas.";
        if (spec.MicroBatches < 1 || spec.MinReplicas < 1 || spec.MaxReplicas < spec.MinReplicas || spec.MaxReplicas > ReplicaSplit.MaxReplicas)
            yield break;
        // The global batch is fixed: each of R replicas takes microBatches / R, which must be a whole power of two (or R = 1)
        // for the cross-replica sum to equal the single-replica one bit for bit.
        string exact = ReplicaSplit.DescribeExactCounts(spec.MicroBatches);
        if (!ReplicaSplit.IsExact(spec.MicroBatches, spec.MinReplicas))
            yield return $"minReplicas: {spec.MinReplicas} cannot split microBatches {spec.MicroBatches} into equal power-of-two blocks; use {exact} (or change microBatches, e.g. to a power of two).";
        if (spec.MaxReplicas != spec.MinReplicas && !ReplicaSplit.IsExact(spec.MicroBatches, spec.MaxReplicas))
            yield return $"maxReplicas: {spec.MaxReplicas} cannot split microBatches {spec.MicroBatches} into equal power-of-two blocks; use {exact} (or change microBatches, e.g. to a power of two).";
    }

    /// <summary>Whether the spec lets the job span CPU and CUDA nodes (<see cref="JobSpec.DevicePlacement"/> "mixed"), giving up bit-identity.</summary>
    public static bool MixedDevices(JobSpec spec) => spec.DevicePlacement == "mixed";

    /// <summary>The replica counts a (valid) spec can run with, ascending: the exact ones between its minimum and maximum.</summary>
    public static IReadOnlyList<int> ReplicaCounts(JobSpec spec) => ReplicaSplit.ExactCounts(spec.MicroBatches, spec.MinReplicas, spec.MaxReplicas);

    /// <summary>What each stage asks of a node: state + activation memory, and compute cost per step.</summary>
    public static IReadOnlyList<StageDemand> Demands(JobSpec spec, StagePlan plan)
    {
        var config = plan.Config;
        int inFlight = Math.Min(spec.MicroBatches, plan.StageCount); // 1F1B keeps at most P micro-batches per stage
        long tokens = (long)spec.MicroBatchSize * config.ContextLength;
        // Saved activations per block and micro-batch: ~16 floats per token per d_model (norms, qkv, attention
        // output, MLP hidden at ratio 4) plus the attention scores when the kernel materialises them.
        long perBlock = tokens * (16L * config.DModel + (long)config.Heads * config.ContextLength) * sizeof(float);
        var demands = new StageDemand[plan.StageCount];
        for (int s = 0; s < plan.StageCount; s++)
        {
            var (start, end) = plan.UnitRange(s);
            long memory = 0;
            for (int u = start; u < end; u++)
            {
                memory += ModelLayout.UnitStateBytes(config, u);
                if (!ModelLayout.IsEmbedding(u) && !ModelLayout.IsHead(config, u)) memory += perBlock * inFlight;
                if (ModelLayout.IsHead(config, u)) memory += tokens * config.VocabSize * sizeof(float) * 2L * inFlight;
            }
            demands[s] = new StageDemand(s, memory, plan.StageCost(s) * tokens * spec.MicroBatches);
        }
        return demands;
    }

    private static string Camel(string problem) =>
        problem.Length > 0 && char.IsUpper(problem[0]) ? char.ToLowerInvariant(problem[0]) + problem[1..] : problem;

    /// <summary>A value for an error message: at most 80 characters, control characters shown as '?'.</summary>
    private static string Printable(string value) =>
        new([.. value.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);

    // \z, not $: '$' also matches before a trailing newline.
    [GeneratedRegex(@"^[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,63}\z")]
    private static partial Regex JobIdPattern();

    /// <summary>A retried submission: equal, apart from the pin this job added to an unpinned data source.</summary>
    public static bool SameSubmission(JobSpec stored, JobSpec submitted)
    {
        if (DataSourceReference.Parse(submitted.DataSource).Sha256 is null)
            stored = stored with { DataSource = DataSourceReference.Parse(stored.DataSource).Path };
        return stored == submitted || (stored with { LayersPerStage = null } == submitted with { LayersPerStage = null }
            && (stored.LayersPerStage ?? []).SequenceEqual(submitted.LayersPerStage ?? []));
    }
}
