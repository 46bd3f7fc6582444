using Cluster.Kernels.Config;

namespace Cluster.Kernels.Planning;

/// <summary>
/// The shape of a GPT decoder to plan for (this project's architecture: learned positions, 4·d MLP by default,
/// untied LM head) and the bytes of its weights, gradients and activations (2 for bf16).
/// </summary>
public sealed record ModelShape(string Name, int Layers, int DModel, int Heads, int Vocab, int Context, int MlpRatio = 4, int DTypeBytes = 2)
{
    public long ParameterCount => DecoderParameters.Total(Vocab, Context, DModel, Layers, (long)DModel * MlpRatio);

    public long BlockParameters => DecoderParameters.Block(DModel, (long)DModel * MlpRatio);

    public long EmbeddingParameters => DecoderParameters.Embeddings(Vocab, Context, DModel);

    public long HeadParameters => DecoderParameters.Head(Vocab, DModel);

    public static ModelShape From(ModelConfig config, string name, int dtypeBytes = 2) =>
        new(name, config.Layers, config.DModel, config.Heads, config.VocabSize, config.ContextLength, config.MlpRatio, dtypeBytes);

    /// <summary>Every problem, each naming the field and the fix; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Layers < 1) problems.Add($"layers = {Layers}: a model needs at least 1 block.");
        if (DModel < 1) problems.Add($"d_model = {DModel}: must be positive.");
        if (Heads < 1) problems.Add($"heads = {Heads}: must be at least 1.");
        else if (DModel >= 1 && DModel % Heads != 0) problems.Add($"d_model = {DModel} is not divisible by heads = {Heads}: choose a head count that divides d_model.");
        if (Vocab < 2) problems.Add($"vocab = {Vocab}: must be at least 2.");
        if (Context < 1) problems.Add($"context = {Context}: must be at least 1 token.");
        if (MlpRatio < 1) problems.Add($"mlp ratio = {MlpRatio}: must be at least 1 (4 is usual).");
        if (DTypeBytes is not (1 or 2 or 4)) problems.Add($"dtype bytes = {DTypeBytes}: use 2 (bf16/fp16), 4 (fp32) or 1 (fp8).");
        return problems;
    }
}
