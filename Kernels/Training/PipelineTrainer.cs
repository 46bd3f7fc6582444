using System.Diagnostics;
using Cluster.Kernels.Compute;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using Cluster.Kernels.Wire;
using TorchSharp;

namespace Cluster.Kernels.Training;

/// <summary>
/// The model cut into P <see cref="StageExecutor"/>s in one process, driven by a <see cref="PipelineSchedule"/> (GPipe:
/// every micro-batch forward through all stages, then every backward in micro-batch order; 1F1B: each micro-batch's
/// backward right after its forward), then one global clip norm and the update. Everything
/// between stages travels as <see cref="WireTensor"/> bytes — exactly what the grains carry between silos — so this
/// is both the single-process proof that a partition changes no bits and the baseline of the distributed pipeline.
/// With R data-parallel replicas each runs its <see cref="ReplicaSplit"/> block of the step's micro-batches through its
/// own copy of the stages, and every stage's gradients are summed across replicas by <see cref="ReplicaReduction"/>
/// before the shared clip and update — the proof that the replica count changes no bits either.
/// </summary>
public sealed class PipelineTrainer : IDisposable
{
    private readonly StageExecutor[][] _replicas; // [rank][stage]
    private readonly BatchSampler _sampler;

    public PipelineTrainer(TrainerOptions options, StagePlan plan, ITokenSource data, PipelineSchedule schedule = PipelineSchedule.GPipe, int replicas = 1)
    {
        Schedule = schedule;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(plan);
        Options = options.EnsureValid();
        if (plan.Config != options.Model)
            throw new ArgumentException("The stage plan was made for a different model config than the trainer's.", nameof(plan));
        ComputeDevice.SetThreads(options.Threads);
        var device = ComputeDevice.Resolve(options.Device);
        _sampler = new BatchSampler(data, options.Model.ContextLength, options.MicroBatchSize, options.DataSeed, options.Model.VocabSize);
        MicroBatchesPerReplica = ReplicaSplit.PerReplica(options.MicroBatches, replicas);
        _replicas = new StageExecutor[replicas][];
        try
        {
            for (int r = 0; r < replicas; r++)
            {
                _replicas[r] = new StageExecutor[plan.StageCount];
                for (int s = 0; s < plan.StageCount; s++) _replicas[r][s] = new StageExecutor(plan, s, options.Optimizer, device);
            }
        }
        catch
        {
            foreach (var stage in _replicas.Where(r => r is not null).SelectMany(r => r)) stage?.Dispose();
            throw;
        }
        Plan = plan;
    }

    public TrainerOptions Options { get; }

    public StagePlan Plan { get; }

    public PipelineSchedule Schedule { get; }

    /// <summary>The stages of replica 0 (every replica holds the same state).</summary>
    public IReadOnlyList<StageExecutor> Stages => _replicas[0];

    public int Replicas => _replicas.Length;

    public int MicroBatchesPerReplica { get; }

    public long CompletedSteps => _replicas[0][0].CompletedSteps;

    public StepResult TrainStep()
    {
        var clock = Stopwatch.StartNew();
        long step = CompletedSteps;
        int m = Options.MicroBatches;
        var losses = new double[m];
        float scale = LossReduction.Scale(m); // of the global batch, whatever the replica count
        int k = MicroBatchesPerReplica;
        for (int rank = 0; rank < _replicas.Length; rank++)
        {
            var stages = _replicas[rank];
            if (Schedule == PipelineSchedule.GPipe)
            {
                for (int local = 0; local < k; local++) losses[rank * k + local] = ForwardAll(stages, step, rank * k + local, local);
                for (int local = 0; local < k; local++) BackwardAll(stages, local, scale);
            }
            else
            {
                for (int local = 0; local < k; local++)
                {
                    losses[rank * k + local] = ForwardAll(stages, step, rank * k + local, local);
                    BackwardAll(stages, local, scale);
                }
            }
        }
        if (_replicas.Length > 1)
            for (int s = 0; s < Plan.StageCount; s++)
            {
                var reduced = ReplicaReduction.Sum([.. _replicas.Select(r => r[s].LocalGradients())]);
                foreach (var replica in _replicas) replica[s].UseReducedGradients(reduced);
            }
        double norm = GradientNorm.Global(_replicas[0].Select(s => s.GradientSquares()));
        double coefficient = GradientNorm.ClipCoefficient(norm, Options.Optimizer.ClipNorm);
        double learningRate = LearningRateSchedule.At(Options.Optimizer, step);
        foreach (var stage in _replicas.SelectMany(r => r)) stage.ApplyUpdate(coefficient);
        return new StepResult(step, LossReduction.Mean(losses), losses, norm, learningRate, Options.TokensPerStep, clock.Elapsed);
    }

    /// <summary>Forward of global micro-batch <paramref name="global"/>, known to the replica's stages by its local index.</summary>
    private double ForwardAll(StageExecutor[] stages, long step, int global, int local)
    {
        var batch = _sampler.Sample(step, global);
        WireTensor activations = TensorWire.FromTokens(batch.Inputs, batch.Rows, batch.Columns);
        for (int s = 0; s < stages.Length - 1; s++)
            activations = stages[s].Forward(local, activations);
        return stages[^1].ForwardLoss(local, activations, TensorWire.FromTokens(batch.Targets, batch.Rows, batch.Columns));
    }

    private static void BackwardAll(StageExecutor[] stages, int local, float scale)
    {
        WireTensor? gradient = null;
        for (int s = stages.Length - 1; s >= 0; s--)
            gradient = stages[s].Backward(local, gradient, scale);
    }

    /// <summary>Every stage's parameters by global name (replica 0's).</summary>
    public IReadOnlyDictionary<string, float[]> ParameterValues() => ParameterValues(0);

    /// <summary>Every stage's parameters of replica <paramref name="rank"/> by global name.</summary>
    public IReadOnlyDictionary<string, float[]> ParameterValues(int rank) =>
        _replicas[rank].SelectMany(s => s.ParameterValues()).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>Saves every stage's units into one directory (one file per unit).</summary>
    public void SaveState(string directory)
    {
        foreach (var stage in _replicas[0]) stage.SaveState(directory);
    }

    /// <summary>Loads every stage's units from a directory written with any partition.</summary>
    public void LoadState(string directory)
    {
        foreach (var stage in _replicas.SelectMany(r => r)) stage.LoadState(directory);
    }

    public void Dispose()
    {
        foreach (var stage in _replicas.SelectMany(r => r)) stage.Dispose();
    }
}
