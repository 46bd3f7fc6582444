using System.CommandLine;
using Cluster.Grains.Interfaces.Jobs;

namespace Cluster.Client.Specs;

/// <summary>
/// <c>job submit</c> flags: each one given replaces that field of the spec file (or of the defaults, shown in help,
/// which are <see cref="JobSpec"/>'s own).
/// </summary>
internal sealed class JobSpecFlags
{
    private static readonly JobSpec s_defaults = new();

    public Option<string?> Id { get; } = new("--id") { Description = "Job id (letters, digits, '.', '_', '-') [default: the file's jobId, else job-<time>]" };

    public Option<int?> Steps { get; } = Flag("--steps", "Optimizer steps", s_defaults.Steps);

    public Option<int?> Stages { get; } = Flag("--stages", "Pipeline stages", s_defaults.Stages);

    public Option<int?> Layers { get; } = Flag("--layers", "Transformer layers", s_defaults.Model.Layers);

    public Option<int?> DModel { get; } = Flag("--d-model", "Model width", s_defaults.Model.DModel);

    public Option<int?> Heads { get; } = Flag("--heads", "Attention heads", s_defaults.Model.Heads);

    public Option<int?> Context { get; } = Flag("--context", "Context length (tokens)", s_defaults.Model.ContextLength);

    public Option<int?> MicroBatches { get; } = Flag("--micro-batches", "Micro-batches per step", s_defaults.MicroBatches);

    public Option<int?> MicroBatchSize { get; } = Flag("--micro-batch-size", "Sequences per micro-batch", s_defaults.MicroBatchSize);

    public Option<int?> CheckpointInterval { get; } = Flag("--checkpoint-interval", "Steps between durable checkpoints (0: only the last)", s_defaults.CheckpointInterval);

    public Option<double?> LearningRate { get; } = new("--lr") { Description = $"Peak learning rate [default: {s_defaults.Optimizer.LearningRate}]" };

    public Option<int?> WarmupSteps { get; } = Flag("--warmup-steps", "Learning-rate warm-up steps (fewer than --steps)", s_defaults.Optimizer.WarmupSteps);

    public Option<string?> Data { get; } = new("--data") { Description = $"\"synthetic\", a text file or a uint16 .bin token file present on every silo [default: {s_defaults.DataSource}]" };

    public Option<int?> Priority { get; } = new("--priority") { Description = $"Higher runs first and preempts running jobs of lower priority (-1000 to 1000) [default: {s_defaults.Priority}]" };

    public Option<string?> Team { get; } = new("--team") { Description = $"The team the job counts against (quotas, fair sharing) [default: {s_defaults.Team}]" };

    public Option<int?> MinReplicas { get; } = Flag("--min-replicas", "Data-parallel replicas the job needs at least (it shrinks to this many when nodes fail)", s_defaults.MinReplicas);

    public Option<int?> MaxReplicas { get; } = Flag("--max-replicas", "Data-parallel replicas the job grows to on free nodes; each count used must split --micro-batches into equal power-of-two blocks", s_defaults.MaxReplicas);

    public IEnumerable<Option> All => [Id, Steps, Stages, Layers, DModel, Heads, Context, MicroBatches, MicroBatchSize, CheckpointInterval, LearningRate, WarmupSteps, Data, Priority, Team, MinReplicas, MaxReplicas];

    /// <summary>The spec with every given flag applied; the id falls back to a time-stamped one.</summary>
    public JobSpec Apply(JobSpec spec, ParseResult parse, DateTimeOffset now)
    {
        var model = spec.Model;
        model = model with
        {
            Layers = parse.GetValue(Layers) ?? model.Layers,
            DModel = parse.GetValue(DModel) ?? model.DModel,
            Heads = parse.GetValue(Heads) ?? model.Heads,
            ContextLength = parse.GetValue(Context) ?? model.ContextLength,
        };
        string jobId = parse.GetValue(Id) ?? (spec.JobId is { Length: > 0 } id ? id : $"job-{now:yyyyMMdd-HHmmss}");
        return spec with
        {
            JobId = jobId,
            Model = model,
            Optimizer = spec.Optimizer with
            {
                LearningRate = parse.GetValue(LearningRate) ?? spec.Optimizer.LearningRate,
                WarmupSteps = parse.GetValue(WarmupSteps) ?? spec.Optimizer.WarmupSteps,
            },
            Steps = parse.GetValue(Steps) ?? spec.Steps,
            Stages = parse.GetValue(Stages) ?? spec.Stages,
            MicroBatches = parse.GetValue(MicroBatches) ?? spec.MicroBatches,
            MicroBatchSize = parse.GetValue(MicroBatchSize) ?? spec.MicroBatchSize,
            CheckpointInterval = parse.GetValue(CheckpointInterval) ?? spec.CheckpointInterval,
            DataSource = parse.GetValue(Data) ?? spec.DataSource,
            Priority = parse.GetValue(Priority) ?? spec.Priority,
            Team = parse.GetValue(Team) ?? spec.Team,
            MinReplicas = parse.GetValue(MinReplicas) ?? spec.MinReplicas,
            MaxReplicas = parse.GetValue(MaxReplicas) ?? spec.MaxReplicas,
        };
    }

    /// <summary>
    /// The replica range's obvious mistakes (a count below 1, a minimum above the maximum), each naming where the value
    /// came from — the flag, the file's field or the default — and the fix. The cluster checks the rest (the upper
    /// bound, how the counts split the micro-batches) and reports it like any invalid spec.
    /// </summary>
    public IReadOnlyList<string> ReplicaProblems(JobSpec spec, ParseResult parse, string? path)
    {
        string min = Source(MinReplicas, "minReplicas", spec.MinReplicas, s_defaults.MinReplicas, parse, path);
        string max = Source(MaxReplicas, "maxReplicas", spec.MaxReplicas, s_defaults.MaxReplicas, parse, path);
        var problems = new List<string>();
        if (spec.MinReplicas < 1) problems.Add($"{min} is below 1: a job runs at least one replica; give 1 or more.");
        if (spec.MaxReplicas < 1) problems.Add($"{max} is below 1: a job runs at least one replica; give 1 or more.");
        if (problems.Count == 0 && spec.MinReplicas > spec.MaxReplicas)
        {
            problems.Add($"{min} exceeds {max}: the minimum cannot be above the maximum; give --max-replicas {spec.MinReplicas} (or more), or a smaller --min-replicas.");
        }
        return problems;
    }

    /// <summary>"--min-replicas 0", "minReplicas = 1 (the default)" or "spec.json: minReplicas = 4".</summary>
    private static string Source(Option<int?> flag, string field, int value, int defaultValue, ParseResult parse, string? path) =>
        parse.GetValue(flag) is not null ? $"{flag.Name} {value}"
        : value == defaultValue || path is null ? $"{field} = {value} (the default)"
        : $"{path}: {field} = {value}";

    private static Option<int?> Flag(string name, string description, int defaultValue) =>
        new(name) { Description = $"{description} [default: {defaultValue}]" };
}
