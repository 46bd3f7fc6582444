namespace Cluster.Kernels.Planning;

/// <summary>What the backward pass recomputes instead of keeping (Korthikanti et al., 2022).</summary>
public enum ActivationRecompute
{
    /// <summary>Everything kept: 34 + 5·a·s/d bytes per token and d per block (16-bit), attention scores included.</summary>
    None,

    /// <summary>Attention scores and softmax recomputed (FlashAttention does this anyway): 34 bytes per token and d.</summary>
    Selective,

    /// <summary>Only each block's input kept (2 bytes per token and d); the forward pass runs twice.</summary>
    Full,
}
