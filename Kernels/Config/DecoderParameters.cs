namespace Cluster.Kernels.Config;

/// <summary>
/// Parameter counts of this project's GPT decoder (learned positions, pre-norm blocks with biases, untied LM head),
/// shared by <see cref="ModelConfig"/> and the planner so both count one model the same way.
/// </summary>
public static class DecoderParameters
{
    /// <summary>Token and position embeddings.</summary>
    public static long Embeddings(long vocab, long context, long d) => vocab * d + context * d;

    /// <summary>One block: two layer norms, fused QKV and output projection, two-layer MLP, all with biases.</summary>
    public static long Block(long d, long mlpHidden) => 2 * 2 * d + d * 3 * d + 3 * d + d * d + d + d * mlpHidden + mlpHidden + mlpHidden * d + d;

    /// <summary>Final layer norm and the untied LM head (no bias).</summary>
    public static long Head(long vocab, long d) => 2 * d + d * vocab;

    public static long Total(long vocab, long context, long d, long layers, long mlpHidden) =>
        Embeddings(vocab, context, d) + layers * Block(d, mlpHidden) + Head(vocab, d);
}
