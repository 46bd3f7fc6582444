using Cluster.Kernels.Compute;
using Cluster.Kernels.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>
/// Decoupled-weight-decay Adam (Loshchilov &amp; Hutter), the same update as torch.optim.AdamW, element-wise and
/// per parameter — so a parameter's update never depends on which stage it lives on. Moments are plain tensors we own,
/// which makes per-layer checkpointing of optimizer state straightforward. Every factor reaches libtorch as an
/// explicit <see cref="Scalar"/> kept alive across the call (the constant ones for the optimizer's life, the ones
/// that change with the step for the step): an implicit temporary could be finalized while libtorch reads it.
/// </summary>
internal sealed class AdamW : IDisposable
{
    private readonly OptimizerConfig _config;
    private readonly Tensor[] _parameters;
    private readonly bool[] _decay;
    private readonly Scalar _beta1;
    private readonly Scalar _oneMinusBeta1;
    private readonly Scalar _beta2;
    private readonly Scalar _oneMinusBeta2;
    private readonly Scalar _epsilon;

    public AdamW(OptimizerConfig config, IReadOnlyList<(Tensor Parameter, bool Decay)> parameters)
    {
        _config = config;
        _parameters = parameters.Select(p => p.Parameter).ToArray();
        _decay = parameters.Select(p => p.Decay).ToArray();
        ExpAvg = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        ExpAvgSq = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _beta1 = config.Beta1.ToScalar();
        _oneMinusBeta1 = (1 - config.Beta1).ToScalar();
        _beta2 = config.Beta2.ToScalar();
        _oneMinusBeta2 = (1 - config.Beta2).ToScalar();
        _epsilon = config.Epsilon.ToScalar();
    }

    /// <summary>Optimizer steps taken so far (AdamW's t).</summary>
    public long Steps { get; set; }

    public Tensor[] ExpAvg { get; }

    public Tensor[] ExpAvgSq { get; }

    /// <summary>Applies one update with the given gradients (same order as the parameters) and learning rate.</summary>
    public void Step(Tensor[] gradients, double learningRate)
    {
        if (gradients.Length != _parameters.Length)
            throw new ArgumentException($"Got {gradients.Length} gradients for {_parameters.Length} parameters.", nameof(gradients));
        Steps++;
        double beta1 = _config.Beta1, beta2 = _config.Beta2;
        double biasCorrection1 = 1 - Math.Pow(beta1, Steps);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, Steps));
        double stepSize = learningRate / biasCorrection1;
        using var decayFactor = (1 - learningRate * _config.WeightDecay).ToScalar();
        using var biasCorrection2 = biasCorrection2Sqrt.ToScalar();
        using var negativeStepSize = (-stepSize).ToScalar();
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var scope = NewDisposeScope();
            var p = _parameters[i];
            var g = gradients[i];
            if (_decay[i] && _config.WeightDecay > 0)
                p.mul_(decayFactor);
            ExpAvg[i].mul_(_beta1).add_(g, alpha: _oneMinusBeta1);
            ExpAvgSq[i].mul_(_beta2).addcmul_(g, g, value: _oneMinusBeta2);
            var denominator = ExpAvgSq[i].sqrt().div_(biasCorrection2).add_(_epsilon, KeptScalars.One);
            p.addcdiv_(ExpAvg[i], denominator, value: negativeStepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in ExpAvg) t.Dispose();
        foreach (var t in ExpAvgSq) t.Dispose();
        _beta1.Dispose();
        _oneMinusBeta1.Dispose();
        _beta2.Dispose();
        _oneMinusBeta2.Dispose();
        _epsilon.Dispose();
    }
}
