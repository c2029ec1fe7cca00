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

    // The cross-attention sub-layer of an encoder-decoder's decoder block (decoder.blocks.{l}.…; GPT-2 has none).
    // Its hooks come after ln_final in this enum so GPT-2's points keep their numbers; in the forward pass they sit
    // between hook_resid_mid and ln2 (TransformerLens's T5 block: ln → cross_attn → hook_cross_attn_out → hook_resid_mid_cross).

    /// <summary><c>blocks.{l}.ln_cross.hook_normalized</c> (B, Tt, C): the norm before cross-attention (state-dict ln_2 of a seq2seq decoder block).</summary>
    LnCrossNormalized,
    /// <summary><c>blocks.{l}.cross_attn.hook_q</c> (B, Tt, H, D): the queries, from the decoder stream.</summary>
    CrossQ,
    /// <summary><c>blocks.{l}.cross_attn.hook_k</c> (B, Ts, H, D): the keys, from the encoder's memory.</summary>
    CrossK,
    /// <summary><c>blocks.{l}.cross_attn.hook_v</c> (B, Ts, H, D): the values, from the memory.</summary>
    CrossV,
    /// <summary><c>blocks.{l}.cross_attn.hook_attn_scores</c> (B, H, Tt, Ts): q·kᵀ·scale, −∞ at padded source positions.</summary>
    CrossAttnScores,
    /// <summary><c>blocks.{l}.cross_attn.hook_pattern</c> (B, H, Tt, Ts): where each target position reads the source.</summary>
    CrossPattern,
    /// <summary><c>blocks.{l}.cross_attn.hook_z</c> (B, Tt, H, D): each head's output pattern·v.</summary>
    CrossZ,
    /// <summary><c>blocks.{l}.hook_cross_attn_out</c> (B, Tt, C): the cross-attention branch, added to the residual.</summary>
    CrossAttnOut,
    /// <summary><c>blocks.{l}.hook_resid_mid_cross</c> (B, Tt, C): the residual stream after cross-attention.</summary>
    ResidMidCross,

    // Points added for interpretability (direct logit attribution); after the cross-attention ones so every earlier
    // point keeps its number. In the forward pass hook_result sits between hook_z and hook_attn_out, hook_scale
    // just before ln_final.hook_normalized.

    /// <summary><c>blocks.{l}.attn.hook_result</c> (B, T, H, C): each head's output after the output projection,
    /// z[:, :, h]·W_O[h·D:(h+1)·D, :], without the projection's bias (TransformerLens's name). Σ_h result + b_O =
    /// hook_attn_out. Computed only when a hook asks for it; read-only (edit hook_z to change a head).</summary>
    Result,
    /// <summary><c>ln_final.hook_scale</c> (B, T, 1): the final norm's divisor per position, √(var + ε) for LayerNorm
    /// (TransformerLens's name), what "freezing the final norm's scale" freezes. Read-only.</summary>
    LnFinalScale,
}
