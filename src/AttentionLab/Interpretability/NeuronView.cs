using AttentionLab.Hooks;
using AttentionLab.Models;

namespace AttentionLab.Interpretability;

/// <summary>One query–key pair of one head, dimension by dimension.</summary>
/// <param name="Query">(D) q of the query position (hook_q)</param>
/// <param name="Key">(D) k of the key position (hook_k)</param>
/// <param name="Products">(D) q ∘ k: their sum is the raw score</param>
/// <param name="Scaled">(D) q ∘ k · scale: their sum is the score softmax reads</param>
/// <param name="Score">Σ Scaled, = hook_attn_scores[query, key] (−∞ there where the mask hides the key)</param>
/// <param name="Scores">(Tk) the query's scaled scores over every key (hook_attn_scores)</param>
/// <param name="Weights">(Tk) its attention weights (hook_pattern)</param>
public sealed record NeuronViewResult(int Layer, int Head, int QueryPosition, int KeyPosition, float Scale,
    float[] Query, float[] Key, float[] Products, float[] Scaled, float RawScore, float Score, float[] Scores, float[] Weights);

/// <summary>
/// BertViz's neuron view for any model on the stack: for a head, a query position and a key position, the
/// elementwise products q ∘ k whose sum is the score, before and after the 1/√D scale, so a learner sees which
/// dimensions make the head attend. q and k are the hooked <c>hook_q</c>, <c>hook_k</c> (what the scores are
/// computed from); the scale is the call's (<see cref="Attention.AttentionOptions.ScaleFor"/>).
/// </summary>
public static class NeuronView
{
    public static NeuronViewResult Run(DecoderModel model, int[] tokens, int layer, int head, int query, int key)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ModelRuns.CheckTokens(model, tokens, "the input");
        var cfg = model.Config;
        int t = tokens.Length, h = cfg.Heads, d = cfg.HeadDim;
        if ((uint)layer >= (uint)cfg.Layers || (uint)head >= (uint)h)
            throw new ArgumentException($"head {layer}.{head} is outside the model's {cfg.Layers} layers × {h} heads");
        if ((uint)query >= (uint)t || (uint)key >= (uint)t)
            throw new ArgumentException($"query {query} and key {key} must be positions in [0, {t})");
        if (cfg.Positions == PositionEncoding.Rotary || cfg.QkNorm)
            throw new ArgumentException("the neuron view reads hook_q and hook_k, and this model rotates or normalizes them before the scores (rotary positions or q/k norms); it needs GPT-2-style attention");
        int hkv = cfg.KeyValueHeads, kvHead = head / (h / hkv);                           // grouped-query: the key head this query head reads
        string qName = HookNames.Name(HookPoint.Q, layer), kName = HookNames.Name(HookPoint.K, layer);
        string sName = HookNames.Name(HookPoint.AttnScores, layer), pName = HookNames.Name(HookPoint.Pattern, layer);
        var (_, cache) = model.RunWithCache(tokens, n => n == qName || n == kName || n == sName || n == pName);
        var q = cache[qName].Data.AsSpan((query * h + head) * d, d).ToArray();             // (T, H, D) → (D)
        var k = cache[kName].Data.AsSpan((key * hkv + kvHead) * d, d).ToArray();       // (T, Hkv, D) → (D)
        float scale = model.AttentionOptions.ScaleFor(d);
        var products = new float[d];
        System.Numerics.Tensors.TensorPrimitives.Multiply(q, k, products);
        var scaled = new float[d];
        System.Numerics.Tensors.TensorPrimitives.Multiply(products, scale, scaled);
        var scores = cache[sName].Data.AsSpan((head * t + query) * t, t).ToArray();         // (H, T, T) → (Tk)
        var weights = cache[pName].Data.AsSpan((head * t + query) * t, t).ToArray();
        return new NeuronViewResult(layer, head, query, key, scale, q, k, products, scaled,
            System.Numerics.Tensors.TensorPrimitives.Sum(products), scores[key], scores, weights);
    }
}
