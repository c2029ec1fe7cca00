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
    public static bool IsPerBlock(HookPoint point) => point is not (HookPoint.Embed or HookPoint.PosEmbed or HookPoint.LnFinalNormalized);

    /// <summary>The canonical name of a point; <paramref name="layer"/> is ignored for the model-level points.</summary>
    public static string Name(HookPoint point, int layer = 0) => point switch
    {
        HookPoint.Embed => "hook_embed",
        HookPoint.PosEmbed => "hook_pos_embed",
        HookPoint.LnFinalNormalized => "ln_final.hook_normalized",
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
        HookPoint.AttnOut => "hook_attn_out",
        HookPoint.ResidMid => "hook_resid_mid",
        HookPoint.Ln2Normalized => "ln2.hook_normalized",
        HookPoint.MlpPre => "mlp.hook_pre",
        HookPoint.MlpPost => "mlp.hook_post",
        HookPoint.MlpOut => "hook_mlp_out",
        HookPoint.ResidPost => "hook_resid_post",
        _ => throw new ArgumentOutOfRangeException(nameof(point), point, "not a per-block hook point"),
    };

    /// <summary>Every hook point of a model of this shape, in forward order, with its shape and meaning.</summary>
    public static IReadOnlyList<HookInfo> For(Gpt2Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var list = new List<HookInfo>
        {
            new(Name(HookPoint.Embed), HookPoint.Embed, 0, "(B, T, C)", "token embeddings wte[token]"),
        };
        if (config.Positions != PositionEncoding.None)
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
            Add(HookPoint.AttnOut, "(B, T, C)", "attention branch c_proj(z) + b");
            Add(HookPoint.ResidMid, "(B, T, C)", "residual stream after attention");
            Add(HookPoint.Ln2Normalized, "(B, T, C)", "ln_2 output");
            Add(HookPoint.MlpPre, "(B, T, 4C)", "MLP hidden layer before GELU");
            Add(HookPoint.MlpPost, "(B, T, 4C)", "MLP hidden layer after GELU");
            Add(HookPoint.MlpOut, "(B, T, C)", "MLP branch");
            Add(HookPoint.ResidPost, "(B, T, C)", "residual stream leaving the block");
        }
        list.Add(new(Name(HookPoint.LnFinalNormalized), HookPoint.LnFinalNormalized, 0, "(B, T, C)", "ln_f output, read by the unembedding"));
        return list;
    }

    /// <summary>Reads a canonical name back into its point and block.</summary>
    public static bool TryParse(string name, out HookPoint point, out int layer)
    {
        ArgumentNullException.ThrowIfNull(name);
        layer = 0;
        foreach (var p in Enum.GetValues<HookPoint>())
        {
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
