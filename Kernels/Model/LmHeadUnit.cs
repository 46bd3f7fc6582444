using Cluster.Kernels.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cluster.Kernels.Model;

/// <summary>Final layer norm + LM head (no bias, not tied to the embedding so the two can live on different stages).</summary>
internal sealed class LmHeadUnit : nn.Module<Tensor, Tensor>
{
    // Registered names are checkpoint keys: never rename them.
    private readonly LayerNorm _lnFinal;
    private readonly Linear _head;

    public LmHeadUnit(ModelConfig config) : base("head")
    {
        _lnFinal = nn.LayerNorm(config.DModel);
        _head = nn.Linear(config.DModel, config.VocabSize, hasBias: false);
        register_module("ln_f", _lnFinal);
        register_module("lm_head", _head);
    }

    public override Tensor forward(Tensor x)
    {
        using var normed = _lnFinal.forward(x);
        return _head.forward(normed);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lnFinal.Dispose();
            _head.Dispose();
        }
        base.Dispose(disposing);
    }
}
