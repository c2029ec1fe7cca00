using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>One term of a direct logit attribution: a part of the residual stream and what it adds to the metric.</summary>
/// <param name="Name">"embed", "pos_embed", "blocks.{l}.attn.head.{h}", "blocks.{l}.attn.bias", "blocks.{l}.mlp", "ln_final.bias"</param>
/// <param name="Layer">its block (−1 for the embeddings and the final bias)</param>
/// <param name="Head">its head, or −1</param>
public readonly record struct AttributionTerm(string Name, int Layer, int Head, float Value);

/// <summary>The terms, the metric of the forward pass (<see cref="Total"/>) and the per-head map.</summary>
/// <param name="Heads">(L · H) each head's term</param>
/// <param name="Mlps">(L) each MLP's term</param>
public sealed record AttributionResult(int Position, PatchMetric Metric, float Total, AttributionTerm[] Terms, float[] Heads, float[] Mlps)
{
    /// <summary>Σ terms: equals <see cref="Total"/> to float rounding.</summary>
    public float Sum => (float)Terms.Sum(t => (double)t.Value);
}

/// <summary>
/// Direct logit attribution (Elhage et al. 2021; TransformerLens's <c>logit_attrs</c>): the residual stream at the
/// last block is a sum — the embeddings, each head's output after W_O (<c>hook_result</c>), each attention's output
/// bias, each MLP's output — and with the final norm's scale frozen at the value the forward pass divided by
/// (<c>ln_final.hook_scale</c>, the standard convention) the norm is linear, so the logit (or logit difference) splits
/// into one term per part, plus the final norm's and the head's biases. The terms sum to the model's own value.
/// Frozen scale means a term is the part's *direct* effect: what it writes that the unembedding reads, not what it
/// changes downstream (that is what patching measures).
/// </summary>
public static class DirectLogitAttribution
{
    /// <summary>The attribution of <paramref name="metric"/>'s logit (difference) at <paramref name="position"/>
    /// (null: the last). With a loss metric the attributed value is the target's logit.</summary>
    public static AttributionResult Run(DecoderModel model, int[] tokens, PatchMetric metric, int? position = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(metric);
        ModelRuns.CheckTokens(model, tokens, "the input");
        metric.Check(model.Config);
        var cfg = model.Config;
        int t = tokens.Length, c = cfg.Channels, heads = cfg.Heads, layers = cfg.Layers, v = cfg.VocabSize;
        int pos = position ?? t - 1;
        if ((uint)pos >= (uint)t) throw new ArgumentException($"position {pos} is outside [0, {t})");

        static bool Parts(string n) => n is "hook_embed" or "hook_pos_embed" or "ln_final.hook_scale"
            || n.EndsWith(".attn.hook_result", StringComparison.Ordinal) || n.EndsWith(".hook_attn_out", StringComparison.Ordinal)
            || n.EndsWith(".hook_mlp_out", StringComparison.Ordinal);
        var (_, cache) = model.RunWithCache(tokens, Parts);
        var logits = model.Logits.Slice(pos * v, v);
        float total = metric.Other is { } b0 ? logits[metric.Token] - logits[b0] : logits[metric.Token];

        // u = W_U[a] − W_U[b] (or W_U[a]): the direction the normalized stream is read along
        var direction = model.UnembeddingRow(metric.Token).ToArray();                     // (C)
        if (metric.Other is { } other) System.Numerics.Tensors.TensorPrimitives.Subtract(direction, model.UnembeddingRow(other), direction);
        float[] scale = [cache.Contains("ln_final.hook_scale") ? cache["ln_final.hook_scale"].Data[pos] : 1f];
        var frozen = new float[c];
        float Term(ReadOnlySpan<float> part)                                              // (C) one part at pos
        {
            model.FinalNormFrozen(part, scale, 1, frozen);
            return System.Numerics.Tensors.TensorPrimitives.Dot(frozen, direction);
        }

        var terms = new List<AttributionTerm> { new("embed", -1, -1, Term(cache["hook_embed"].Data.AsSpan(pos * c, c))) };
        if (cache.TryGet("hook_pos_embed", out var positions)) terms.Add(new("pos_embed", -1, -1, Term(positions.Data.AsSpan(pos * c, c))));
        var headTerms = new float[layers * heads];
        var mlpTerms = new float[layers];
        var rest = new float[c];
        for (int l = 0; l < layers; l++)
        {
            var result = cache[HookNames.Name(HookPoint.Result, l)].Data;                  // (T, H, C)
            cache[HookNames.Name(HookPoint.AttnOut, l)].Data.AsSpan(pos * c, c).CopyTo(rest);
            for (int h = 0; h < heads; h++)
            {
                var part = result.AsSpan((pos * heads + h) * c, c);
                headTerms[l * heads + h] = Term(part);
                terms.Add(new($"blocks.{l}.attn.head.{h}", l, h, headTerms[l * heads + h]));
                System.Numerics.Tensors.TensorPrimitives.Subtract(rest, part, rest);
            }
            terms.Add(new($"blocks.{l}.attn.bias", l, -1, Term(rest)));                  // attn_out − Σ heads = b_O
            mlpTerms[l] = Term(cache[HookNames.Name(HookPoint.MlpOut, l)].Data.AsSpan(pos * c, c));
            terms.Add(new($"blocks.{l}.mlp", l, -1, mlpTerms[l]));
        }
        var beta = model.FinalNormBias;
        float biases = beta.IsEmpty ? 0f : System.Numerics.Tensors.TensorPrimitives.Dot(beta, direction);
        biases += model.OutputBiasOf(metric.Token) - (metric.Other is { } ob ? model.OutputBiasOf(ob) : 0f);
        terms.Add(new("ln_final.bias", -1, -1, biases));
        return new AttributionResult(pos, metric, total, [.. terms], headTerms, mlpTerms);
    }
}
