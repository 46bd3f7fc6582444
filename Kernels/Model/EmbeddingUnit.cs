using Cluster.Kernels.Compute;
using Cluster.Kernels.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cluster.Kernels.Model;

/// <summary>Token + learned position embedding: int64 tokens [B, T] → activations [B, T, d].</summary>
internal sealed class EmbeddingUnit : nn.Module<Tensor, Tensor>
{
    // Registered names are checkpoint keys: never rename them.
    private readonly Embedding _tok;
    private readonly Embedding _pos;

    public EmbeddingUnit(ModelConfig config) : base("embed")
    {
        _tok = nn.Embedding(config.VocabSize, config.DModel);
        _pos = nn.Embedding(config.ContextLength, config.DModel);
        register_module("tok", _tok);
        register_module("pos", _pos);
    }

    public override Tensor forward(Tensor tokens)
    {
        long t = tokens.shape[1];
        using var end = t.ToScalar();
        using var positions = arange(end, dtype: ScalarType.Int64, device: tokens.device);
        using var tok = _tok.forward(tokens);
        using var pos = _pos.forward(positions);
        return tok.add(pos, KeptScalars.One);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _tok.Dispose();
            _pos.Dispose();
        }
        base.Dispose(disposing);
    }
}
