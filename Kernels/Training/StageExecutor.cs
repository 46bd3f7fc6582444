using System.Runtime.InteropServices;
using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Config;
using Cluster.Kernels.Model;
using Cluster.Kernels.Wire;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>
/// Runs one pipeline stage: forward of a micro-batch (token ids on the first stage, activations elsewhere; loss on the
/// last), backward from the output gradient, gradient accumulation over micro-batches in a canonical tree, the stage's
/// share of global-norm clipping, and AdamW with the schedule. Inputs and outputs are <see cref="WireTensor"/>s.
/// Not thread-safe: one caller (a device worker) drives it. Each call is one unit of work with its own dispose scope;
/// only the micro-batch graphs awaiting backward, the parameters and the optimizer state outlive a call.
/// <para>
/// Invariant (reused buffers outlive no executor): the host arrays a stage reuses from step to step — the vector of
/// <see cref="LocalGradients"/>, the snapshot's host buffers (<see cref="CopyStateIntoKeptBuffers"/>), the all-reduce's
/// chunks (<see cref="Reduction"/>) — belong to one executor, and a distributed stage makes a new executor with every
/// configuration (every epoch it is placed in). Device work of an abandoned epoch cannot be taken back: an operation
/// queued on a device that hung runs whenever the device gets to it, possibly after the job moved the stage to another
/// device of the same silo, where the same grain activation goes on with a new executor. That work writes only its own
/// executor's arrays, which only the abandoned epoch's readers hold, and their results are fenced by that epoch.
/// </para>
/// </summary>
public sealed class StageExecutor : IDisposable
{
    private readonly ModelUnit[] _units;
    private readonly Parameters[] _flat;
    private readonly AdamW _optimizer;
    private readonly GradientAccumulator _accumulator = new();
    private readonly Dictionary<int, (Tensor? Input, Tensor Output)> _inFlight = [];
    private Tensor[]? _stepGradients;
    private float[]? _flatGradients; // LocalGradients' vector, the same array every step
    private readonly UnitStateBuffers _snapshotBuffers = new(); // CopyStateIntoKeptBuffers' host buffers
    private bool _disposed;

    public StageExecutor(StagePlan plan, int stage, OptimizerConfig optimizer, Device device)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.EnsureValid();
        Plan = plan;
        Stage = stage;
        Optimizer = optimizer;
        Device = device;
        var (start, end) = plan.UnitRange(stage);
        _units = new ModelUnit[end - start];
        try
        {
            for (int u = start; u < end; u++)
                _units[u - start] = ModelUnit.Create(plan.Config, u, device);
        }
        catch
        {
            foreach (var unit in _units) unit?.Dispose();
            throw;
        }
        _flat = _units.SelectMany(u => u.Parameters).Select(p => new Parameters(p.GlobalName, p.Parameter, p.Decay)).ToArray();
        _optimizer = new AdamW(optimizer, _flat.Select(p => ((Tensor)p.Tensor, p.Decay)).ToArray());
    }

    public StagePlan Plan { get; }

    public ModelConfig Config => Plan.Config;

    public int Stage { get; }

    public OptimizerConfig Optimizer { get; }

    public Device Device { get; }

    public bool IsFirst => Stage == 0;

    public bool IsLast => Stage == Plan.StageCount - 1;

    /// <summary>Optimizer steps completed: the (0-based) index of the step this stage is computing now.</summary>
    public long CompletedSteps => _optimizer.Steps;

    /// <summary>Global names of this stage's parameters, in the order of <see cref="GradientSquares"/>.</summary>
    public IReadOnlyList<string> ParameterNames => _flat.Select(p => p.Name).ToArray();

    public long ParameterCount => _flat.Sum(p => p.Tensor.NumberOfElements);

    /// <summary>A copy of this stage's parameters by global name (for equivalence checks and tools).</summary>
    public IReadOnlyDictionary<string, float[]> ParameterValues() => ModelUnit.ParameterValues(_units);

    /// <summary>Micro-batches forwarded whose backward has not run yet.</summary>
    public int MicroBatchesInFlight => _inFlight.Count;

    /// <summary>Forward on a stage other than the last: returns the output activations.</summary>
    public WireTensor Forward(int microBatch, WireTensor input)
    {
        if (IsLast)
            throw new InvalidOperationException($"Stage {Stage} is the last stage: call {nameof(ForwardLoss)} with the targets.");
        using var scope = NewDisposeScope();
        var (leaf, output) = RunForward(microBatch, input);
        var wire = TensorWire.ToWire(output);
        Keep(microBatch, leaf, output);
        return wire;
    }

    /// <summary>Forward on the last stage: returns the mean cross-entropy of the micro-batch.</summary>
    public double ForwardLoss(int microBatch, WireTensor input, WireTensor targets)
    {
        if (!IsLast)
            throw new InvalidOperationException($"Stage {Stage} is not the last stage: call {nameof(Forward)}.");
        ArgumentNullException.ThrowIfNull(targets);
        using var scope = NewDisposeScope();
        var (leaf, logits) = RunForward(microBatch, input);
        var target = TensorWire.FromWire(targets, Device);
        var loss = nn.functional.cross_entropy(logits.view(-1, Config.VocabSize), target.view(-1));
        double value = loss.item<float>();
        Keep(microBatch, leaf, loss);
        return value;
    }

    /// <summary>
    /// Backward of a micro-batch. The last stage seeds it with <paramref name="lossScale"/> (1/M to average over the
    /// step's micro-batches); other stages take the gradient of their output. Returns the gradient of the input
    /// activations, or null on the first stage. Micro-batches may be back-propagated in any order: their gradients
    /// accumulate in a canonical tree by index.
    /// </summary>
    public WireTensor? Backward(int microBatch, WireTensor? outputGradient, float lossScale)
    {
        if (!_inFlight.Remove(microBatch, out var saved))
            throw new InvalidOperationException($"Stage {Stage} has no forward pass of micro-batch {microBatch} awaiting backward.");
        if (_stepGradients is not null)
            throw new InvalidOperationException($"Stage {Stage} has already finalised this step's gradients: apply the update before the next backward pass.");
        try
        {
            using var scope = NewDisposeScope();
            Tensor seed = IsLast
                ? tensor(lossScale, ScalarType.Float32, Device)
                : TensorWire.FromWire(outputGradient ?? throw new ArgumentNullException(nameof(outputGradient), $"Stage {Stage} needs the gradient of its output."), Device);

            var inputs = new List<Tensor>(_flat.Length + 1);
            foreach (var p in _flat) inputs.Add(p.Tensor);
            if (saved.Input is not null) inputs.Add(saved.Input);
            var gradients = autograd.grad([saved.Output], inputs, [seed], retain_graph: false, create_graph: false, allow_unused: true);

            var parameterGradients = new Tensor[_flat.Length];
            for (int i = 0; i < _flat.Length; i++)
            {
                // A parameter the graph did not reach (never the case in this model) gets an explicit zero gradient.
                var g = gradients[i] ?? zeros_like(_flat[i].Tensor);
                parameterGradients[i] = g.DetachFromDisposeScope();
            }
            _accumulator.Add(microBatch, parameterGradients);
            return saved.Input is null ? null : TensorWire.ToWire(gradients[_flat.Length]);
        }
        finally
        {
            saved.Output.Dispose();
            saved.Input?.Dispose();
        }
    }

    /// <summary>
    /// Finalises this step's accumulated gradients and returns each parameter's squared L2 norm (float64), in
    /// <see cref="ParameterNames"/> order, for the global clip norm.
    /// </summary>
    public double[] GradientSquares()
    {
        _stepGradients ??= _accumulator.TakeTotal();
        var squares = new double[_stepGradients.Length];
        for (int i = 0; i < squares.Length; i++)
            squares[i] = GradientNorm.SquaredNorm(_stepGradients[i]);
        return squares;
    }

    /// <summary>Values in this stage's flat gradient vector (every parameter, in <see cref="ParameterNames"/> order).</summary>
    public int GradientLength
    {
        get
        {
            long parameters = ParameterCount;
            return parameters <= Array.MaxLength ? (int)parameters
                : throw new InvalidOperationException($"Stage {Stage} holds {parameters} parameters, more than one flat gradient vector holds ({Array.MaxLength}): a data-parallel stage must hold fewer; spread the model over more stages.");
        }
    }

    /// <summary>
    /// Finalises this replica's accumulated gradients and returns them as one flat float32 vector (parameters in
    /// <see cref="ParameterNames"/> order), for the cross-replica reduction.
    /// <para>
    /// The vector is the same array every step, overwritten by the next call (issue 16: a fresh one — 3.5 MB for the
    /// demo model — cost its page faults on the all-reduce's critical path every step). So it is valid until this
    /// executor's next <see cref="LocalGradients"/>: whoever reads it must be done within the step, as the in-process
    /// trainer's reduction is and as <c>PipelineStageGrain</c>'s all-reduce is by its invariant (no step begins before
    /// every rank's reduction of the one before has read what it needs).
    /// </para>
    /// </summary>
    public float[] LocalGradients()
    {
        _stepGradients ??= _accumulator.TakeTotal();
        var flat = _flatGradients is { } kept && kept.Length == GradientLength ? kept : (_flatGradients = new float[GradientLength]);
        int offset = 0;
        foreach (var g in _stepGradients)
        {
            using var scope = NewDisposeScope();
            var cpu = g.detach().to_type(ScalarType.Float32).cpu().contiguous();
            int count = (int)cpu.NumberOfElements;
            MemoryMarshal.Cast<byte, float>(cpu.bytes).CopyTo(flat.AsSpan(offset, count)); // one block copy (the element accessor was ≈ 10 ms per step here)
            offset += count;
        }
        return flat;
    }

    /// <summary>
    /// Replaces this step's finalised gradients with the reduction of every replica's (same layout as
    /// <see cref="LocalGradients"/>); <see cref="GradientSquares"/> and <see cref="ApplyUpdate"/> then use them.
    /// </summary>
    public void UseReducedGradients(float[] flat)
    {
        ArgumentNullException.ThrowIfNull(flat);
        UseReducedGradients([flat]);
    }

    /// <summary>
    /// <see cref="UseReducedGradients(float[])"/> from the reduced vector in consecutive chunks (an all-reduce's, in
    /// rank order), each copied straight into the gradients: the whole vector is never put together.
    /// </summary>
    public void UseReducedGradients(IReadOnlyList<float[]> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (_stepGradients is null)
            throw new InvalidOperationException($"Stage {Stage} has not finalised its gradients: call {nameof(LocalGradients)} first.");
        long length = chunks.Sum(c => (long)(c ?? throw new ArgumentException("A reduced chunk is missing.", nameof(chunks))).Length);
        if (length != GradientLength)
            throw new ArgumentException($"Stage {Stage} has {GradientLength} gradient values, the reduced vector {length}: the replicas run different stage plans.", nameof(chunks));
        int chunk = 0, inChunk = 0;
        using var noGrad = no_grad();
        foreach (var g in _stepGradients)
        {
            using var scope = NewDisposeScope();
            int count = (int)g.NumberOfElements;
            bool inPlace = g.device_type == DeviceType.CPU && g.dtype == ScalarType.Float32 && g.is_contiguous();
            var values = inPlace ? MemoryMarshal.Cast<byte, float>(g.bytes) : new float[count]; // in place, no temporary tensor
            for (int done = 0; done < count;)
            {
                while (inChunk == chunks[chunk].Length) (chunk, inChunk) = (chunk + 1, 0);
                int n = Math.Min(count - done, chunks[chunk].Length - inChunk);
                chunks[chunk].AsSpan(inChunk, n).CopyTo(values[done..]);
                (done, inChunk) = (done + n, inChunk + n);
            }
            if (!inPlace)
                g.copy_(tensor(values.ToArray(), g.shape).to(g.device));
        }
    }

    /// <summary>Clips by <paramref name="clipCoefficient"/> (when below 1) and applies AdamW at the scheduled learning rate.</summary>
    public void ApplyUpdate(double clipCoefficient)
    {
        if (_inFlight.Count > 0)
            throw new InvalidOperationException($"Stage {Stage} still has {_inFlight.Count} micro-batches awaiting backward.");
        var gradients = _stepGradients ?? _accumulator.TakeTotal();
        _stepGradients = null;
        try
        {
            if (clipCoefficient < 1.0)
            {
                using var noGrad = no_grad();
                using var coefficientScalar = clipCoefficient.ToScalar();
                foreach (var g in gradients) g.mul_(coefficientScalar);
            }
            _optimizer.Step(gradients, LearningRateSchedule.At(Optimizer, _optimizer.Steps));
        }
        finally
        {
            foreach (var g in gradients) g.Dispose();
        }
    }

    /// <summary>Drops every in-flight micro-batch and accumulated gradient (used when a step is abandoned).</summary>
    public void AbandonStep()
    {
        foreach (var (input, output) in _inFlight.Values)
        {
            input?.Dispose();
            output.Dispose();
        }
        _inFlight.Clear();
        _accumulator.Dispose();
        if (_stepGradients is not null)
            foreach (var g in _stepGradients) g.Dispose();
        _stepGradients = null;
    }

    /// <summary>Snapshots the state of every unit of this stage (one safetensors image per unit).</summary>
    public IReadOnlyList<UnitStateImage> ExportState() => [.. CopyState().Select(c => c.Encode(Config))];

    /// <summary>
    /// <see cref="ExportState"/> as of the last optimizer update, also in the middle of a step: forward and backward
    /// passes only accumulate gradients (and keep activations), which the state does not hold; only
    /// <see cref="ApplyUpdate"/> changes parameters and moments. What a surviving data-parallel replica serves when the
    /// job restores from its live state while its step in flight is abandoned.
    /// </summary>
    public IReadOnlyList<UnitStateImage> ExportUpdatedState() => [.. UnitStateTransfer.Copy(_units, _optimizer, null).Select(c => c.Encode(Config))];

    /// <summary>
    /// The device-side part of a snapshot: copies every unit's parameters and optimizer moments to host buffers (one
    /// <see cref="UnitStateCopy"/> per unit). Encoding them (<see cref="UnitStateCopy.Encode"/>) needs no device and
    /// can run elsewhere while the next step computes.
    /// </summary>
    public IReadOnlyList<UnitStateCopy> CopyState() => CopyState(null);

    /// <summary>
    /// <see cref="CopyState()"/> into host buffers this executor keeps from one call to the next (a snapshot every step
    /// would otherwise allocate the stage's state afresh every step). The copies alias the buffers, so they are valid
    /// until the next call: the caller keeps the buffers' invariant (<see cref="UnitStateBuffers"/>) — it calls again only
    /// once every reader of the last copies has finished.
    /// </summary>
    public IReadOnlyList<UnitStateCopy> CopyStateIntoKeptBuffers() => CopyState(_snapshotBuffers);

    /// <summary>
    /// The all-reduce's arrays of a data-parallel stage, kept from step to step with this executor (see the class's
    /// invariant on reused buffers). Used by the stage's turns, not on the device thread.
    /// </summary>
    public ReductionBuffers Reduction { get; } = new();

    private IReadOnlyList<UnitStateCopy> CopyState(UnitStateBuffers? buffers)
    {
        if (_inFlight.Count > 0 || _accumulator.Count > 0 || _stepGradients is not null)
            throw new InvalidOperationException($"Stage {Stage} is mid-step: state can only be exported between steps.");
        return UnitStateTransfer.Copy(_units, _optimizer, buffers);
    }

    /// <summary>
    /// Loads the state of every unit of this stage. <paramref name="readUnit"/> returns a unit's image by unit name
    /// together with a name for errors (a path, a blob name). All units must be at the same optimizer step.
    /// </summary>
    public void ImportState(Func<string, (ChunkedBytes Image, string Source)> readUnit)
    {
        AbandonStep();
        UnitStateTransfer.Import(Config, _units, _optimizer, readUnit);
    }

    /// <summary>Writes one <c>&lt;unit&gt;.safetensors</c> file per unit into <paramref name="directory"/>, each atomically.</summary>
    public void SaveState(string directory) => UnitStateTransfer.Save(directory, ExportState());

    /// <summary>Loads this stage's units from <c>&lt;unit&gt;.safetensors</c> files, whichever partition wrote them.</summary>
    public void LoadState(string directory) => ImportState(UnitStateTransfer.FileReader(directory));

    private (Tensor? Leaf, Tensor Output) RunForward(int microBatch, WireTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_inFlight.ContainsKey(microBatch))
            throw new InvalidOperationException($"Stage {Stage} already holds a forward pass of micro-batch {microBatch}.");
        var x = TensorWire.FromWire(input, Device);
        Tensor? leaf = null;
        if (!IsFirst)
        {
            if (input.DType != WireDType.Float32)
                throw new ArgumentException($"Stage {Stage} expects float32 activations, got {input.DType}.", nameof(input));
            leaf = x.requires_grad_(true);
        }
        else if (input.DType != WireDType.Int64)
            throw new ArgumentException($"Stage 0 expects int64 token ids, got {input.DType}.", nameof(input));
        foreach (var unit in _units) x = unit.Module.forward(x);
        return (leaf, x);
    }

    private void Keep(int microBatch, Tensor? leaf, Tensor output) =>
        _inFlight[microBatch] = (leaf?.DetachFromDisposeScope(), output.DetachFromDisposeScope());

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        AbandonStep();
        _optimizer.Dispose();
        foreach (var unit in _units) unit.Dispose();
    }

    private sealed record Parameters(string Name, TorchSharp.Modules.Parameter Tensor, bool Decay);
}
