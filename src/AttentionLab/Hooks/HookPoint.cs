namespace AttentionLab.Hooks;

/// <summary>
/// The activations a forward pass exposes, in the order it makes them (TransformerLens's hook points). Each has a
/// canonical name (<see cref="HookNames"/>); the per-block ones carry the block index: <c>blocks.{l}.…</c>.
/// </summary>
public enum HookPoint
{
    /// <summary><c>hook_embed</c> (B, T, C): the token embeddings wte[token].</summary>
    Embed,
    /// <summary><c>hook_pos_embed</c> (B, T, C): what the positions add (learned wpe rows or fixed sinusoids; absent
    /// when the model has no positions).</summary>
    PosEmbed,
    /// <summary><c>blocks.{l}.hook_resid_pre</c> (B, T, C): the residual stream entering block l.</summary>
    ResidPre,
    /// <summary><c>blocks.{l}.ln1.hook_normalized</c> (B, T, C): ln_1's output (after its gain and bias).</summary>
    Ln1Normalized,
    /// <summary><c>blocks.{l}.attn.hook_q</c> (B, T, H, D): the queries, biases included.</summary>
    Q,
    /// <summary><c>blocks.{l}.attn.hook_k</c> (B, T, Hkv, D): the keys.</summary>
    K,
    /// <summary><c>blocks.{l}.attn.hook_v</c> (B, T, Hkv, D): the values.</summary>
    V,
    /// <summary><c>blocks.{l}.attn.hook_attn_scores</c> (B, H, Tq, Tk): q·kᵀ·scale, −∞ where the mask hides a key.</summary>
    AttnScores,
    /// <summary><c>blocks.{l}.attn.hook_pattern</c> (B, H, Tq, Tk): the attention probabilities (rows sum to 1).</summary>
    Pattern,
    /// <summary><c>blocks.{l}.attn.hook_z</c> (B, T, H, D): each head's output (pattern·v), before the output projection.</summary>
    Z,
    /// <summary><c>blocks.{l}.hook_attn_out</c> (B, T, C): the attention branch, c_proj(z) + bias, added to the residual.</summary>
    AttnOut,
    /// <summary><c>blocks.{l}.hook_resid_mid</c> (B, T, C): the residual stream between attention and MLP.</summary>
    ResidMid,
    /// <summary><c>blocks.{l}.ln2.hook_normalized</c> (B, T, C): ln_2's output.</summary>
    Ln2Normalized,
    /// <summary><c>blocks.{l}.mlp.hook_pre</c> (B, T, 4C): the MLP's hidden layer before its activation.</summary>
    MlpPre,
    /// <summary><c>blocks.{l}.mlp.hook_post</c> (B, T, 4C): after the activation (GELU).</summary>
    MlpPost,
    /// <summary><c>blocks.{l}.hook_mlp_out</c> (B, T, C): the MLP branch, added to the residual.</summary>
    MlpOut,
    /// <summary><c>blocks.{l}.hook_resid_post</c> (B, T, C): the residual stream leaving block l.</summary>
    ResidPost,
    /// <summary><c>ln_final.hook_normalized</c> (B, T, C): the final LayerNorm's output, what the unembedding reads.</summary>
    LnFinalNormalized,
}
