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
/// </summary>
public sealed class PipelineTrainer : IDisposable
{
    private readonly StageExecutor[] _stages;
    private readonly BatchSampler _sampler;

    public PipelineTrainer(TrainerOptions options, StagePlan plan, ITokenSource data, PipelineSchedule schedule = PipelineSchedule.GPipe)
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
        _stages = new StageExecutor[plan.StageCount];
        try
        {
            for (int s = 0; s < _stages.Length; s++) _stages[s] = new StageExecutor(plan, s, options.Optimizer, device);
        }
        catch
        {
            foreach (var stage in _stages) stage?.Dispose();
            throw;
        }
        Plan = plan;
    }

    public TrainerOptions Options { get; }

    public StagePlan Plan { get; }

    public PipelineSchedule Schedule { get; }

    public IReadOnlyList<StageExecutor> Stages => _stages;

    public long CompletedSteps => _stages[0].CompletedSteps;

    public StepResult TrainStep()
    {
        var clock = Stopwatch.StartNew();
        long step = CompletedSteps;
        int m = Options.MicroBatches;
        var losses = new double[m];
        float scale = LossReduction.Scale(m);
        if (Schedule == PipelineSchedule.GPipe)
        {
            for (int micro = 0; micro < m; micro++) losses[micro] = ForwardAll(step, micro);
            for (int micro = 0; micro < m; micro++) BackwardAll(micro, scale);
        }
        else
        {
            for (int micro = 0; micro < m; micro++)
            {
                losses[micro] = ForwardAll(step, micro);
                BackwardAll(micro, scale);
            }
        }
        double norm = GradientNorm.Global(_stages.Select(s => s.GradientSquares()));
        double coefficient = GradientNorm.ClipCoefficient(norm, Options.Optimizer.ClipNorm);
        double learningRate = LearningRateSchedule.At(Options.Optimizer, step);
        foreach (var stage in _stages) stage.ApplyUpdate(coefficient);
        return new StepResult(step, LossReduction.Mean(losses), losses, norm, learningRate, Options.TokensPerStep, clock.Elapsed);
    }

    private double ForwardAll(long step, int micro)
    {
        var batch = _sampler.Sample(step, micro);
        WireTensor activations = TensorWire.FromTokens(batch.Inputs, batch.Rows, batch.Columns);
        for (int s = 0; s < _stages.Length - 1; s++)
            activations = _stages[s].Forward(micro, activations);
        return _stages[^1].ForwardLoss(micro, activations, TensorWire.FromTokens(batch.Targets, batch.Rows, batch.Columns));
    }

    private void BackwardAll(int micro, float scale)
    {
        WireTensor? gradient = null;
        for (int s = _stages.Length - 1; s >= 0; s--)
            gradient = _stages[s].Backward(micro, gradient, scale);
    }

    /// <summary>Every stage's parameters by global name.</summary>
    public IReadOnlyDictionary<string, float[]> ParameterValues() =>
        _stages.SelectMany(s => s.ParameterValues()).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>Saves every stage's units into one directory (one file per unit).</summary>
    public void SaveState(string directory)
    {
        foreach (var stage in _stages) stage.SaveState(directory);
    }

    /// <summary>Loads every stage's units from a directory written with any partition.</summary>
    public void LoadState(string directory)
    {
        foreach (var stage in _stages) stage.LoadState(directory);
    }

    public void Dispose()
    {
        foreach (var stage in _stages) stage.Dispose();
    }
}
