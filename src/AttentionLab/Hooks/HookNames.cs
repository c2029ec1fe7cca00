using AttentionLab.Models;

namespace AttentionLab.Hooks;

/// <summary>One hook point of a model: its canonical name, its shape in the model's letters and what it holds.</summary>
public sealed record HookInfo(string Name, HookPoint Point, int Layer, string Shape, string Meaning);

/// <summary>
/// The canonical activation names, TransformerLens's spelling (<c>hook_embed</c>, <c>blocks.0.attn.hook_pattern</c>,
/// <c>ln_final.hook_normalized</c>), so a learner's TransformerLens notebook names the same tensors here.
/// </summary>
public static class HookNames
{
    /// <summary>True for the points inside a block (named <c>blocks.{l}.…</c>).</summary>
    public static bool IsPerBlock(HookPoint point) => point is not (HookPoint.Embed or HookPoint.PosEmbed or HookPoint.LnFinalNormalized or HookPoint.LnFinalScale);

    /// <summary>True for the points of a decoder block's cross-attention sub-layer (encoder-decoder models only).</summary>
    public static bool IsCross(HookPoint point) => point is >= HookPoint.LnCrossNormalized and <= HookPoint.ResidMidCross;

    /// <summary>The canonical name of a point under a model part's prefix (<c>encoder.</c>, <c>decoder.</c>; "" for GPT-2).</summary>
    public static string Name(string prefix, HookPoint point, int layer = 0) => prefix + Name(point, layer);

    /// <summary>The canonical name of a point; <paramref name="layer"/> is ignored for the model-level points.</summary>
    public static string Name(HookPoint point, int layer = 0) => point switch
    {
        HookPoint.Embed => "hook_embed",
        HookPoint.PosEmbed => "hook_pos_embed",
        HookPoint.LnFinalNormalized => "ln_final.hook_normalized",
        HookPoint.LnFinalScale => "ln_final.hook_scale",
        _ => $"blocks.{layer}.{Suffix(point)}",
    };

    private static string Suffix(HookPoint point) => point switch
    {
        HookPoint.ResidPre => "hook_resid_pre",
        HookPoint.Ln1Normalized => "ln1.hook_normalized",
        HookPoint.Q => "attn.hook_q",
        HookPoint.K => "attn.hook_k",
        HookPoint.V => "attn.hook_v",
        HookPoint.AttnScores => "attn.hook_attn_scores",
        HookPoint.Pattern => "attn.hook_pattern",
        HookPoint.Z => "attn.hook_z",
        HookPoint.Result => "attn.hook_result",
        HookPoint.AttnOut => "hook_attn_out",
        HookPoint.ResidMid => "hook_resid_mid",
        HookPoint.Ln2Normalized => "ln2.hook_normalized",
        HookPoint.MlpPre => "mlp.hook_pre",
        HookPoint.MlpPost => "mlp.hook_post",
        HookPoint.MlpOut => "hook_mlp_out",
        HookPoint.ResidPost => "hook_resid_post",
        HookPoint.LnCrossNormalized => "ln_cross.hook_normalized",
        HookPoint.CrossQ => "cross_attn.hook_q",
        HookPoint.CrossK => "cross_attn.hook_k",
        HookPoint.CrossV => "cross_attn.hook_v",
        HookPoint.CrossAttnScores => "cross_attn.hook_attn_scores",
        HookPoint.CrossPattern => "cross_attn.hook_pattern",
        HookPoint.CrossZ => "cross_attn.hook_z",
        HookPoint.CrossAttnOut => "hook_cross_attn_out",
        HookPoint.ResidMidCross => "hook_resid_mid_cross",
        _ => throw new ArgumentOutOfRangeException(nameof(point), point, "not a per-block hook point"),
    };

    /// <summary>Every hook point of a model of this shape, in forward order, with its shape and meaning.</summary>
    public static IReadOnlyList<HookInfo> For(DecoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var list = new List<HookInfo>
        {
            new(Name(HookPoint.Embed), HookPoint.Embed, 0, "(B, T, C)", "token embeddings wte[token]"),
        };
        if (config.Positions is not (PositionEncoding.None or PositionEncoding.Rotary))     // rotary positions act inside attention
            list.Add(new(Name(HookPoint.PosEmbed), HookPoint.PosEmbed, 0, "(B, T, C)",
                config.Positions == PositionEncoding.Learned ? "learned position rows wpe[t]" : "fixed sinusoidal positions"));
        for (int l = 0; l < config.Layers; l++)
        {
            void Add(HookPoint p, string shape, string meaning) => list.Add(new(Name(p, l), p, l, shape, meaning));
            Add(HookPoint.ResidPre, "(B, T, C)", "residual stream entering the block");
            Add(HookPoint.Ln1Normalized, "(B, T, C)", "ln_1 output");
            Add(HookPoint.Q, "(B, T, H, D)", "queries");
            Add(HookPoint.K, "(B, T, Hkv, D)", "keys");
            Add(HookPoint.V, "(B, T, Hkv, D)", "values");
            Add(HookPoint.AttnScores, "(B, H, Tq, Tk)", "scaled scores q·kᵀ/√D, −∞ where masked");
            Add(HookPoint.Pattern, "(B, H, Tq, Tk)", "attention probabilities");
            Add(HookPoint.Z, "(B, T, H, D)", "each head's output pattern·v");
            Add(HookPoint.Result, "(B, T, H, C)", "each head's output after c_proj, without its bias (read-only)");
            Add(HookPoint.AttnOut, "(B, T, C)", "attention branch c_proj(z) + b");
            Add(HookPoint.ResidMid, "(B, T, C)", "residual stream after attention");
            Add(HookPoint.Ln2Normalized, "(B, T, C)", "ln_2 output");
            if (config.Activation == MlpActivation.SwiGlu)
            {
                Add(HookPoint.MlpPre, "(B, T, 2M)", "gate and up projections side by side, [gate | up]");
                Add(HookPoint.MlpPost, "(B, T, M)", "silu(gate)·up, what down_proj reads");
            }
            else
            {
                Add(HookPoint.MlpPre, "(B, T, 4C)", "MLP hidden layer before GELU");
                Add(HookPoint.MlpPost, "(B, T, 4C)", "MLP hidden layer after GELU");
            }
            Add(HookPoint.MlpOut, "(B, T, C)", "MLP branch");
            Add(HookPoint.ResidPost, "(B, T, C)", "residual stream leaving the block");
        }
        list.Add(new(Name(HookPoint.LnFinalScale), HookPoint.LnFinalScale, 0, "(B, T, 1)", "ln_f's divisor √(var + ε) per position (read-only)"));
        list.Add(new(Name(HookPoint.LnFinalNormalized), HookPoint.LnFinalNormalized, 0, "(B, T, C)", "ln_f output, read by the unembedding"));
        return list;
    }

    /// <summary>
    /// Every hook point of an encoder-decoder (<see cref="Seq2SeqModel"/>), in forward order: the encoder's under
    /// <c>encoder.</c> (embeddings, bidirectional blocks, <c>encoder.ln_final.hook_normalized</c> = the memory), then
    /// the decoder's under <c>decoder.</c>, each decoder block with its cross-attention points between
    /// <c>hook_resid_mid</c> and <c>ln2</c>. T is Ts in the encoder, Tt in the decoder.
    /// </summary>
    public static IReadOnlyList<HookInfo> For(Seq2SeqConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var list = new List<HookInfo>();
        void Part(string prefix, int layers, bool cross)
        {
            void Add(HookPoint p, int l, string shape, string meaning) => list.Add(new(Name(prefix, p, l), p, l, shape, meaning));
            Add(HookPoint.Embed, 0, "(B, T, C)", "token embeddings");
            Add(HookPoint.PosEmbed, 0, "(B, T, C)", "learned position rows");
            for (int l = 0; l < layers; l++)
            {
                Add(HookPoint.ResidPre, l, "(B, T, C)", "residual stream entering the block");
                Add(HookPoint.Ln1Normalized, l, "(B, T, C)", "ln_1 output");
                Add(HookPoint.Q, l, "(B, T, H, D)", "queries");
                Add(HookPoint.K, l, "(B, T, H, D)", "keys");
                Add(HookPoint.V, l, "(B, T, H, D)", "values");
                Add(HookPoint.AttnScores, l, "(B, H, T, T)", cross ? "scaled scores, −∞ above the diagonal (causal)" : "scaled scores, −∞ at padded keys");
                Add(HookPoint.Pattern, l, "(B, H, T, T)", "self-attention probabilities");
                Add(HookPoint.Z, l, "(B, T, H, D)", "each head's output pattern·v");
                Add(HookPoint.Result, l, "(B, T, H, C)", "each head's output after the output projection, without its bias");
                Add(HookPoint.AttnOut, l, "(B, T, C)", "self-attention branch");
                Add(HookPoint.ResidMid, l, "(B, T, C)", "residual stream after self-attention");
                if (cross)
                {
                    Add(HookPoint.LnCrossNormalized, l, "(B, Tt, C)", "the norm before cross-attention (ln_2)");
                    Add(HookPoint.CrossQ, l, "(B, Tt, H, D)", "cross-attention queries, from the decoder");
                    Add(HookPoint.CrossK, l, "(B, Ts, H, D)", "cross-attention keys, from the memory");
                    Add(HookPoint.CrossV, l, "(B, Ts, H, D)", "cross-attention values, from the memory");
                    Add(HookPoint.CrossAttnScores, l, "(B, H, Tt, Ts)", "scaled scores, −∞ at padded source positions");
                    Add(HookPoint.CrossPattern, l, "(B, H, Tt, Ts)", "cross-attention probabilities: the alignment");
                    Add(HookPoint.CrossZ, l, "(B, Tt, H, D)", "each head's output pattern·v");
                    Add(HookPoint.CrossAttnOut, l, "(B, Tt, C)", "cross-attention branch");
                    Add(HookPoint.ResidMidCross, l, "(B, Tt, C)", "residual stream after cross-attention");
                }
                Add(HookPoint.Ln2Normalized, l, "(B, T, C)", cross ? "the norm before the MLP (ln_3)" : "ln_2 output");
                Add(HookPoint.MlpPre, l, "(B, T, 4C)", "MLP hidden layer before GELU");
                Add(HookPoint.MlpPost, l, "(B, T, 4C)", "MLP hidden layer after GELU");
                Add(HookPoint.MlpOut, l, "(B, T, C)", "MLP branch");
                Add(HookPoint.ResidPost, l, "(B, T, C)", "residual stream leaving the block");
            }
            if (cross) Add(HookPoint.LnFinalScale, 0, "(B, T, 1)", "decoder ln_f's divisor √(var + ε) per position");
            Add(HookPoint.LnFinalNormalized, 0, "(B, T, C)", cross ? "decoder ln_f output, read by lm_head" : "encoder ln_f output: the memory");
        }
        Part(Seq2SeqModel.EncoderHookPrefix, config.EncoderLayers, cross: false);
        Part(Seq2SeqModel.DecoderHookPrefix, config.DecoderLayers, cross: true);
        return list;
    }

    /// <summary>Reads a canonical name back into its point and block.</summary>
    public static bool TryParse(string name, out HookPoint point, out int layer)
    {
        ArgumentNullException.ThrowIfNull(name);
        layer = 0;
        foreach (var p in Enum.GetValues<HookPoint>())
        {
            if (IsCross(p)) continue;                                                     // GPT-2's names only
            if (!IsPerBlock(p))
            {
                if (name == Name(p)) { point = p; return true; }
                continue;
            }
            string suffix = "." + Suffix(p);
            if (!name.StartsWith("blocks.", StringComparison.Ordinal) || !name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var digits = name.AsSpan(7, name.Length - 7 - suffix.Length);
            if (digits.Length > 0 && digits.Length <= 4 && int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out layer))
            {
                point = p;
                return true;
            }
        }
        point = default;
        return false;
    }
}
