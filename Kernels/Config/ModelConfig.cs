using System.Text.Json.Serialization;

namespace Cluster.Kernels.Config;

/// <summary>Shape and seed of a GPT-style decoder. Two models with equal configs start from identical weights.</summary>
public sealed record ModelConfig
{
    /// <summary>Upper bounds of every size, so a hostile or mistyped config is refused before anything is allocated.</summary>
    public const int MaxVocabSize = 1 << 20;

    public const int MaxContextLength = 1 << 16;

    public const int MaxDModel = 1 << 15;

    public const int MaxLayers = 1024;

    public const int MaxHeads = 1024;

    public const int MaxMlpRatio = 16;

    /// <summary>Token vocabulary size. <value>256 (byte-level).</value></summary>
    public int VocabSize { get; init; } = 256;

    /// <summary>Maximum sequence length (position-embedding rows). <value>128.</value></summary>
    public int ContextLength { get; init; } = 128;

    /// <summary>Residual stream width. <value>128.</value></summary>
    public int DModel { get; init; } = 128;

    /// <summary>Number of transformer blocks. <value>4.</value></summary>
    public int Layers { get; init; } = 4;

    /// <summary>Attention heads per block; must divide <see cref="DModel"/>. <value>4.</value></summary>
    public int Heads { get; init; } = 4;

    /// <summary>MLP hidden width as a multiple of <see cref="DModel"/>. <value>4.</value></summary>
    public int MlpRatio { get; init; } = 4;

    /// <summary>Seed of the initial weights; each layer's weights depend only on (seed, layer index). <value>1337.</value></summary>
    public long Seed { get; init; } = 1337;

    [JsonIgnore]
    public int HeadDim => Heads > 0 ? DModel / Heads : 0;

    [JsonIgnore]
    public int MlpHidden => DModel * MlpRatio;

    /// <summary>Every problem with this config, each naming the field, the rule and the fix; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (VocabSize < 2)
            problems.Add($"{nameof(VocabSize)} = {VocabSize}: must be at least 2 (use 256 for byte-level text).");
        else if (VocabSize > MaxVocabSize)
            problems.Add($"{nameof(VocabSize)} = {VocabSize}: exceeds the limit of {MaxVocabSize}.");
        if (ContextLength < 1)
            problems.Add($"{nameof(ContextLength)} = {ContextLength}: must be at least 1 token.");
        else if (ContextLength > MaxContextLength)
            problems.Add($"{nameof(ContextLength)} = {ContextLength}: exceeds the limit of {MaxContextLength} tokens.");
        if (DModel < 1)
            problems.Add($"{nameof(DModel)} = {DModel}: must be a positive width (e.g. 128).");
        else if (DModel > MaxDModel)
            problems.Add($"{nameof(DModel)} = {DModel}: exceeds the limit of {MaxDModel}.");
        if (Layers < 1)
            problems.Add($"{nameof(Layers)} = {Layers}: a model needs at least 1 transformer block.");
        else if (Layers > MaxLayers)
            problems.Add($"{nameof(Layers)} = {Layers}: exceeds the limit of {MaxLayers} transformer blocks.");
        if (Heads < 1)
            problems.Add($"{nameof(Heads)} = {Heads}: must be at least 1.");
        else if (Heads > MaxHeads)
            problems.Add($"{nameof(Heads)} = {Heads}: exceeds the limit of {MaxHeads}.");
        else if (DModel >= 1 && DModel <= MaxDModel && DModel % Heads != 0)
            problems.Add($"{nameof(DModel)} = {DModel} is not divisible by {nameof(Heads)} = {Heads}: choose a head count that divides d_model (e.g. {SuggestHeads(DModel, Heads)}).");
        if (MlpRatio < 1)
            problems.Add($"{nameof(MlpRatio)} = {MlpRatio}: must be at least 1 (4 is usual).");
        else if (MlpRatio > MaxMlpRatio)
            problems.Add($"{nameof(MlpRatio)} = {MlpRatio}: exceeds the limit of {MaxMlpRatio}.");
        if ((long)VocabSize * DModel > int.MaxValue || (long)ContextLength * DModel > int.MaxValue || (long)DModel * DModel * MlpRatio > int.MaxValue)
            problems.Add("A single weight matrix would exceed 2^31 elements: reduce VocabSize, ContextLength, DModel or MlpRatio.");
        return problems;
    }

    /// <summary>Throws <see cref="ConfigValidationException"/> listing every problem when the config is invalid.</summary>
    public ModelConfig EnsureValid()
    {
        var problems = Validate();
        if (problems.Count > 0)
            throw new ConfigValidationException("Model config", problems);
        return this;
    }

    /// <summary>Number of trainable parameters (embeddings, blocks, final norm, LM head).</summary>
    [JsonIgnore]
    public long ParameterCount => DecoderParameters.Total(VocabSize, ContextLength, DModel, Layers, MlpHidden);

    private static int SuggestHeads(int dModel, int heads)
    {
        for (int delta = 1; delta < dModel; delta++)
        {
            if (heads - delta >= 1 && dModel % (heads - delta) == 0) return heads - delta;
            if (dModel % (heads + delta) == 0) return heads + delta;
        }
        return 1;
    }
}
