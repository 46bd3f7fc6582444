using System.Diagnostics;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Compute;
using Cluster.Kernels.Config;
using Cluster.Kernels.Data;
using Cluster.Kernels.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>
/// The ground truth: a plain single-process loop over the whole, uncut model — tokens in, loss out, one autograd
/// pass per micro-batch, no wire format. Every distributed run is checked against it bit for bit, and every benchmark
/// is measured against its throughput.
/// </summary>
public sealed class ReferenceTrainer : IDisposable
{
    private readonly ModelUnit[] _units;
    private readonly Tensor[] _parameters;
    private readonly AdamW _optimizer;
    private readonly BatchSampler _sampler;

    public ReferenceTrainer(TrainerOptions options, ITokenSource data)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.EnsureValid();
        ComputeDevice.SetThreads(options.Threads);
        Device = ComputeDevice.Resolve(options.Device);
        var config = options.Model;
        _sampler = new BatchSampler(data, config.ContextLength, options.MicroBatchSize, options.DataSeed, config.VocabSize);
        _units = Enumerable.Range(0, ModelLayout.UnitCount(config)).Select(u => ModelUnit.Create(config, u, Device)).ToArray();
        var slots = _units.SelectMany(u => u.Parameters).ToArray();
        _parameters = slots.Select(s => (Tensor)s.Parameter).ToArray();
        _optimizer = new AdamW(options.Optimizer, slots.Select(s => ((Tensor)s.Parameter, s.Decay)).ToArray());
    }

    public TrainerOptions Options { get; }

    public Device Device { get; }

    /// <summary>Steps completed so far; the next <see cref="TrainStep"/> computes this step index.</summary>
    public long CompletedSteps => _optimizer.Steps;

    public long ParameterCount => _parameters.Sum(p => p.NumberOfElements);

    /// <summary>Runs one optimizer step over <see cref="TrainerOptions.MicroBatches"/> micro-batches.</summary>
    public StepResult TrainStep()
    {
        var clock = Stopwatch.StartNew();
        long step = _optimizer.Steps;
        int m = Options.MicroBatches;
        var losses = new double[m];
        using var accumulator = new GradientAccumulator();
        for (int micro = 0; micro < m; micro++)
        {
            using var scope = NewDisposeScope();
            var batch = _sampler.Sample(step, micro);
            var x = tensor(batch.Inputs, [batch.Rows, batch.Columns], ScalarType.Int64, Device);
            var targets = tensor(batch.Targets, [batch.Rows * batch.Columns], ScalarType.Int64, Device);
            foreach (var unit in _units) x = unit.Module.forward(x);
            var loss = nn.functional.cross_entropy(x.view(-1, Options.Model.VocabSize), targets);
            losses[micro] = loss.item<float>();
            var seed = tensor(LossReduction.Scale(m), ScalarType.Float32, Device);
            var gradients = autograd.grad([loss], _parameters, [seed]);
            accumulator.Add(micro, gradients.Select(g => g.DetachFromDisposeScope()).ToArray());
        }

        var total = accumulator.TakeTotal();
        try
        {
            double norm = GradientNorm.Global([total.Select(GradientNorm.SquaredNorm).ToArray()]);
            double coefficient = GradientNorm.ClipCoefficient(norm, Options.Optimizer.ClipNorm);
            if (coefficient < 1.0)
            {
                using var noGrad = no_grad();
                using var coefficientScalar = coefficient.ToScalar();
                foreach (var g in total) g.mul_(coefficientScalar);
            }
            double learningRate = LearningRateSchedule.At(Options.Optimizer, step);
            _optimizer.Step(total, learningRate);
            return new StepResult(step, LossReduction.Mean(losses), losses, norm, learningRate, Options.TokensPerStep, clock.Elapsed);
        }
        finally
        {
            foreach (var g in total) g.Dispose();
        }
    }

    /// <summary>Saves every unit as <c>&lt;unit&gt;.safetensors</c> in <paramref name="directory"/> (loadable by any partition).</summary>
    public void SaveState(string directory) => UnitStateTransfer.Save(directory, ExportState());

    public IReadOnlyList<UnitStateImage> ExportState() => UnitStateTransfer.Export(Options.Model, _units, _optimizer);

    /// <summary>Loads the state written by this trainer or by the stages of any partition.</summary>
    public void LoadState(string directory) => ImportState(UnitStateTransfer.FileReader(directory));

    /// <summary>Loads every unit from images returned by unit name (with a name for errors), e.g. from a checkpoint store.</summary>
    public void ImportState(Func<string, (ChunkedBytes Image, string Source)> readUnit) => UnitStateTransfer.Import(Options.Model, _units, _optimizer, readUnit);

    /// <summary>A copy of every parameter as float32 values, by global name (for equivalence checks).</summary>
    public IReadOnlyDictionary<string, float[]> ParameterValues() => ModelUnit.ParameterValues(_units);

    public void Dispose()
    {
        _optimizer.Dispose();
        foreach (var unit in _units) unit.Dispose();
    }
}
