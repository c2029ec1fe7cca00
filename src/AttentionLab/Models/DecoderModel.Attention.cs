using AttentionLab.Attention;

namespace AttentionLab.Models;

/// <summary>GPT-2's attention weights materialized after a forward pass, for inspection.</summary>
public sealed partial class DecoderModel
{
    /// <summary>
    /// (B, H, T, Tk) attention probabilities of block <paramref name="layer"/> in the last forward, materialized now by
    /// the kernel from that forward's q, k and v (training never materializes them unless the kernel needs them).
    /// Tk = T after <see cref="Forward"/>; the cached plus new positions after <see cref="ForwardCached"/>. Uses the
    /// last forward's scale and masks. (To get them during the pass, read <c>blocks.{l}.attn.hook_pattern</c>.)
    /// </summary>
    /// <param name="kernel">materialize with this kernel instead of the last forward's (e.g. an exact one, to measure
    /// an approximation's error on the same q, k and v); null = the last forward's</param>
    public float[] AttentionWeights(int layer, IAttentionKernel? kernel = null)
    {
        var a = RequireForward();
        kernel ??= _lastKernel;
        var options = _lastOptions;
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Config.Layers);
        var s = a.Blocks[layer];
        int h = Config.Heads, d = Config.HeadDim, t = a.Length;
        if (_cachedRun is null)
        {
            var shape = new AttentionShape(a.Batch, h, t, t, d);
            var weights = new float[shape.WeightElements];
            kernel.Weights(a[s.Q], a[s.K], a[s.V], shape, options, weights);
            return weights;
        }
        var cache = _cachedRun;
        int tk = _cachedStart + t;
        if (cache.Length != tk) throw new InvalidOperationException("the KV cache has changed since the last ForwardCached");
        var headShape = new AttentionShape(1, 1, t, tk, d);
        var result = new float[h * t * tk];
        int group = h / Config.KeyValueHeads;                                               // query heads per cached head
        for (int hh = 0; hh < h; hh++)
            kernel.Weights(a[s.Q].Slice(hh * t * d, t * d), cache.Keys(layer, hh / group, 0, tk), cache.Values(layer, hh / group, 0, tk),
                headShape, options, result.AsSpan(hh * t * tk, t * tk));
        return result;
    }
}
