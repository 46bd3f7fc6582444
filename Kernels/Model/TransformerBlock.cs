using Cluster.Kernels.Compute;
using Cluster.Kernels.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cluster.Kernels.Model;

/// <summary>Pre-norm decoder block: x + attn(ln1(x)), then + mlp(ln2(x)); causal multi-head self-attention.</summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    // Registered names are checkpoint keys: never rename them.
    private readonly LayerNorm _ln1;
    private readonly Linear _qkv;
    private readonly Linear _attnProj;
    private readonly LayerNorm _ln2;
    private readonly Linear _fc;
    private readonly Linear _mlpProj;
    private readonly int _heads;
    private readonly int _headDim;

    public TransformerBlock(ModelConfig config, int blockIndex) : base($"block.{blockIndex}")
    {
        int d = config.DModel;
        _heads = config.Heads;
        _headDim = config.HeadDim;
        _ln1 = nn.LayerNorm(d);
        _qkv = nn.Linear(d, 3 * d);
        _attnProj = nn.Linear(d, d);
        _ln2 = nn.LayerNorm(d);
        _fc = nn.Linear(d, config.MlpHidden);
        _mlpProj = nn.Linear(config.MlpHidden, d);
        register_module("ln1", _ln1);
        register_module("attn_qkv", _qkv);
        register_module("attn_proj", _attnProj);
        register_module("ln2", _ln2);
        register_module("mlp_fc", _fc);
        register_module("mlp_proj", _mlpProj);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1], d = x.shape[2];
        var qkv = _qkv.forward(_ln1.forward(x)).view(b, t, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        var y = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: true);
        var attended = x.add(_attnProj.forward(y.transpose(1, 2).reshape(b, t, d)), KeptScalars.One);
        var output = attended.add(_mlpProj.forward(nn.functional.gelu(_fc.forward(_ln2.forward(attended)))), KeptScalars.One);
        return output.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ln1.Dispose();
            _qkv.Dispose();
            _attnProj.Dispose();
            _ln2.Dispose();
            _fc.Dispose();
            _mlpProj.Dispose();
        }
        base.Dispose(disposing);
    }
}
