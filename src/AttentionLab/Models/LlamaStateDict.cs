namespace AttentionLab.Models;

/// <summary>
/// The Llama family's state dict (Hugging Face <c>LlamaForCausalLM</c>, <c>MistralForCausalLM</c>,
/// <c>Qwen2ForCausalLM</c>, <c>Qwen3ForCausalLM</c>: nn.Linear weights (out, in)) in the one stack's arena — the one
/// place the names are mapped, for loading, saving and the fixtures' gradients alike:
/// <code>
/// model.embed_tokens.weight                       (V, C)        wte
/// model.layers.{l}.input_layernorm.weight         (C)           ln_1 (RMSNorm)
/// model.layers.{l}.self_attn.q_proj.weight        (H·D, C)      c_attn columns [0, H·D)                (transposed)
/// model.layers.{l}.self_attn.k_proj.weight        (Hkv·D, C)    c_attn columns [H·D, H·D + Hkv·D)
/// model.layers.{l}.self_attn.v_proj.weight        (Hkv·D, C)    c_attn columns [H·D + Hkv·D, (H + 2·Hkv)·D)
///                                  .bias          q/k/v biases: the same blocks of c_attn.bias (Qwen2)
/// model.layers.{l}.self_attn.q_norm/k_norm.weight (D)           Qwen3's per-head norms
/// model.layers.{l}.self_attn.o_proj.weight        (C, H·D)      attn.c_proj (H·D, C)                    (transposed)
/// model.layers.{l}.post_attention_layernorm.weight (C)          ln_2
/// model.layers.{l}.mlp.gate_proj.weight           (M, C)        mlp.c_fc columns [0, M)                 (transposed)
/// model.layers.{l}.mlp.up_proj.weight             (M, C)        mlp.c_fc columns [M, 2M)
/// model.layers.{l}.mlp.down_proj.weight           (C, M)        mlp.c_proj (M, C)                       (transposed)
/// model.norm.weight                               (C)           ln_f
/// lm_head.weight                                  (V, C)        the untied head (absent when tied: wte)
/// </code>
/// </summary>
public static class LlamaStateDict
{
    /// <summary>Every tensor a folder of this layout's config holds, in Hugging Face's module order.</summary>
    /// <exception cref="ArgumentException">a layout that is not of the Llama family (RMSNorm, SwiGLU, rotary)</exception>
    public static StateDictMap For(DecoderLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var c = layout.Config;
        if (!IsLlamaFamily(c))
            throw new ArgumentException("the Llama layout needs RMSNorm, the SwiGLU MLP and rotary positions");
        return new StateDictMap(Entries(layout));
    }

    /// <summary>True when the config's choices are the Llama family's: pre-norm RMSNorm, SwiGLU, rotary positions, causal.</summary>
    public static bool IsLlamaFamily(DecoderConfig c) =>
        c.Norm == NormKind.RmsNorm && c.Activation == MlpActivation.SwiGlu && c.Positions == PositionEncoding.Rotary && c.IsCausal && !c.OutputBias
        && c.NormPlacement == NormPlacement.Pre;

    private static IEnumerable<StateDictEntry> Entries(DecoderLayout layout)
    {
        var cfg = layout.Config;
        int v = cfg.VocabSize, c = cfg.Channels, a = cfg.AttentionChannels, kv = cfg.KeyValueHeads * cfg.HeadDim, m = cfg.IntermediateSize, d = cfg.HeadDim;
        yield return new("model.embed_tokens.weight", [v, c], layout.TokenEmbedding);
        for (int l = 0; l < cfg.Layers; l++)
        {
            var b = layout.Blocks[l];
            string p = $"model.layers.{l}.";
            yield return new(p + "input_layernorm.weight", [c], b.Norm1Weight);
            (string Name, int Column, int Width)[] qkv = [("q_proj", 0, a), ("k_proj", a, kv), ("v_proj", a + kv, kv)];
            foreach (var (name, column, width) in qkv)
            {
                yield return new(p + $"self_attn.{name}.weight", [width, c], b.AttentionWeight, column, Transposed: true);
                if (b.AttentionBias is { } bias) yield return new(p + $"self_attn.{name}.bias", [width], bias, column);
            }
            yield return new(p + "self_attn.o_proj.weight", [c, a], b.AttentionProjectionWeight, Transposed: true);
            if (b.AttentionProjectionBias is { } oBias) yield return new(p + "self_attn.o_proj.bias", [c], oBias);
            if (b.QueryNormWeight is { } qn) yield return new(p + "self_attn.q_norm.weight", [d], qn);
            if (b.KeyNormWeight is { } kn) yield return new(p + "self_attn.k_norm.weight", [d], kn);
            yield return new(p + "post_attention_layernorm.weight", [c], b.Norm2Weight);
            yield return new(p + "mlp.gate_proj.weight", [m, c], b.MlpWeight, 0, Transposed: true);
            if (b.MlpBias is { } gBias) yield return new(p + "mlp.gate_proj.bias", [m], gBias, 0);
            yield return new(p + "mlp.up_proj.weight", [m, c], b.MlpWeight, m, Transposed: true);
            if (b.MlpBias is { } uBias) yield return new(p + "mlp.up_proj.bias", [m], uBias, m);
            yield return new(p + "mlp.down_proj.weight", [c, m], b.MlpProjectionWeight, Transposed: true);
            if (b.MlpProjectionBias is { } dBias) yield return new(p + "mlp.down_proj.bias", [c], dBias);
        }
        yield return new("model.norm.weight", [c], layout.FinalNormWeight);
        if (!cfg.TiedOutput) yield return new("lm_head.weight", [v, c], layout.OutputWeight);
    }
}
