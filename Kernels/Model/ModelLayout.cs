using Cluster.Kernels.Config;

namespace Cluster.Kernels.Model;

/// <summary>
/// The model as a chain of units — the unit of partitioning and of checkpoint files. Unit 0 is the token + position
/// embedding, units 1…L are the transformer blocks, unit L+1 is the final norm + LM head.
/// </summary>
public static class ModelLayout
{
    public static int UnitCount(ModelConfig config) => config.Layers + 2;

    public static bool IsEmbedding(int unit) => unit == 0;

    public static bool IsHead(ModelConfig config, int unit) => unit == config.Layers + 1;

    /// <summary>Stable name of a unit; it prefixes parameter keys and names the unit's checkpoint file.</summary>
    public static string UnitName(ModelConfig config, int unit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(unit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(unit, config.Layers + 1);
        if (unit == 0) return "embed";
        if (unit == config.Layers + 1) return "head";
        return $"block.{unit - 1}";
    }

    /// <summary>Relative forward+backward cost of a unit per token (multiply-adds), used to balance stages.</summary>
    public static double UnitCost(ModelConfig config, int unit)
    {
        double d = config.DModel, t = config.ContextLength;
        if (IsEmbedding(unit)) return 2 * d; // gathers and an add: tiny, but not free
        if (IsHead(config, unit)) return d * config.VocabSize + 5 * config.VocabSize;
        // qkv (3d²) + proj (d²) + MLP (2·ratio·d²) + attention scores and mixing (≈ T·d, causal halves it)
        return 4 * d * d + 2 * config.MlpRatio * d * d + t * d;
    }

    /// <summary>Parameters of a unit.</summary>
    public static long UnitParameters(ModelConfig config, int unit) =>
        IsEmbedding(unit) ? DecoderParameters.Embeddings(config.VocabSize, config.ContextLength, config.DModel)
        : IsHead(config, unit) ? DecoderParameters.Head(config.VocabSize, config.DModel)
        : DecoderParameters.Block(config.DModel, config.MlpHidden);

    /// <summary>Parameter + AdamW state bytes of a unit in float32 (parameters, gradients, two moments).</summary>
    public static long UnitStateBytes(ModelConfig config, int unit) => UnitParameters(config, unit) * 4 * 4;
}
