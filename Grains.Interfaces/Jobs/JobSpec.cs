using Cluster.Grains.Interfaces.Messages;

namespace Cluster.Grains.Interfaces.Jobs;

/// <summary>Everything a training job needs. Validated by the job grain, which reports every problem at once.</summary>
[GenerateSerializer, Immutable, Alias("cluster.JobSpec")]
public sealed record JobSpec
{
    [Id(0)] public string JobId { get; init; } = "";
    [Id(1)] public ModelSpec Model { get; init; } = new();
    [Id(2)] public OptimizerSpec Optimizer { get; init; } = new();

    /// <summary>Pipeline stages; the model is cut by cost unless <see cref="LayersPerStage"/> is given.</summary>
    [Id(3)] public int Stages { get; init; } = 2;

    /// <summary>Optional explicit cut: transformer layers per stage (embedding joins the first, head the last).</summary>
    [Id(4)] public int[]? LayersPerStage { get; init; }
    [Id(5)] public int MicroBatches { get; init; } = 4;
    [Id(6)] public int MicroBatchSize { get; init; } = 8;
    [Id(7)] public int Steps { get; init; } = 100;

    /// <summary>Steps between durable checkpoints; 0 turns periodic checkpoints off (the last step is always saved).</summary>
    [Id(8)] public int CheckpointInterval { get; init; } = 10;

    /// <summary>Committed checkpoints to keep; older ones are deleted.</summary>
    [Id(9)] public int KeepCheckpoints { get; init; } = 3;

    /// <summary>"synthetic" (built-in corpus), a text file (bytes) or a nanoGPT uint16 .bin file present on every silo.</summary>
    [Id(10)] public string DataSource { get; init; } = "synthetic";
    [Id(11)] public long DataSeed { get; init; } = 42;

    /// <summary>Micro-batch schedule: "1f1b" (default) or "gpipe".</summary>
    [Id(12)] public string Schedule { get; init; } = "1f1b";

    /// <summary>
    /// Steps between in-memory snapshots of every stage, held by its checkpoint shard on another silo: recovery
    /// restores from them when they are newer than the last durable checkpoint, so a failure costs at most the step
    /// in flight. 0 keeps snapshots only at checkpoints.
    /// </summary>
    [Id(13)] public int SnapshotInterval { get; init; } = 1;

    /// <summary>
    /// Elastic scale-up: "auto" (default) moves stages onto nodes that joined during the run, at a checkpoint boundary,
    /// when the scheduler expects faster steps; "off" keeps the placement the job has.
    /// </summary>
    [Id(14)] public string ScaleUp { get; init; } = "auto";

    /// <summary>Higher runs first; a job preempts running jobs of lower priority when the fleet is full.</summary>
    [Id(15)] public int Priority { get; init; }

    /// <summary>The team the job counts against (node quotas, fair sharing among equal priorities).</summary>
    [Id(16)] public string Team { get; init; } = "default";

    /// <summary>
    /// Data-parallel replicas of the whole pipeline the job needs at least: it runs with no fewer (gang placement) and,
    /// when nodes fail, shrinks down to this many instead of stopping. The global batch (<see cref="MicroBatches"/> ×
    /// <see cref="MicroBatchSize"/>) never changes: each of R replicas takes <see cref="MicroBatches"/> / R micro-batches.
    /// </summary>
    [Id(17)] public int MinReplicas { get; init; } = 1;

    /// <summary>Replicas the job grows to when nodes are free (at a step boundary). Every count used must split the micro-batches into equal power-of-two blocks.</summary>
    [Id(18)] public int MaxReplicas { get; init; } = 1;

    /// <summary>
    /// Failure domains (silos) that hold each stage's newest in-memory snapshot: the stage's own silo counts once, every
    /// other copy lives on a silo of its own. 2 (default) survives any single silo failure with no completed step
    /// lost; each extra one survives one more simultaneous failure, at the cost of another copy of the stage's state.
    /// </summary>
    [Id(19)] public int SnapshotReplicas { get; init; } = 2;

    /// <summary>
    /// "same" (default): every stage and replica runs on one device kind — all CPU or all CUDA — so the run is
    /// bit-identical to the reference trainer on that kind. "mixed": CPU and CUDA nodes may share the job, which is
    /// then not bit-identical to any single-kind run (the kinds compute to different bits).
    /// </summary>
    [Id(20)] public string DevicePlacement { get; init; } = "same";
}
