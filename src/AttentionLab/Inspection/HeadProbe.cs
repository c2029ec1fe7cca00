using AttentionLab.Attention;
using AttentionLab.Models;

namespace AttentionLab.Inspection;

/// <summary>
/// One head of a GPT-2, step by step: the model's own queries, keys and values of that head (captured from the
/// forward pass, not recomputed) run through <see cref="AttentionTrace"/>, so a learner sees q·kᵀ, the scaling,
/// the mask, the softmax and weights·V with the real numbers.
/// <code>
/// scale = (1/√D, or 1 with the scaling switched off) / temperature
/// trace = AttentionTrace(q_h, k_h, v_h, causal, scale)      (T, T) maps, (T, D) vectors
/// </code>
/// With scale 1/√D and temperature 1 the trace's weights equal the model's attention map of that head (to float
/// rounding: the trace runs in double).
/// </summary>
public static class HeadProbe
{
    /// <param name="model">an inference GPT-2</param>
    /// <param name="ids">(T) token ids</param>
    /// <param name="scaled">true: divide the scores by √D as the model does; false: leave them unscaled</param>
    /// <param name="temperature">divides the (scaled) scores; below 1 sharpens the rows, above 1 flattens them</param>
    /// <param name="call">the forward's kernel and masks; null = the model's</param>
    public static AttentionTrace Trace(DecoderModel model, IReadOnlyList<int> ids, int layer, int head, bool scaled = true, double temperature = 1.0, ForwardOptions? call = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        var c = model.Config;
        int T = ids.Count, D = c.HeadDim;
        if (T == 0 || T > c.ContextLength) throw new ArgumentException($"need 1 to {c.ContextLength} tokens, got {T}");
        if (layer < 0 || layer >= c.Layers) throw new ArgumentException($"layer must be in [0, {c.Layers - 1}] for this {c.Layers}-layer model, got {layer}");
        if (head < 0 || head >= c.Heads) throw new ArgumentException($"head must be in [0, {c.Heads - 1}] for this {c.Heads}-head model, got {head}");
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw new ArgumentException($"temperature must be a positive number, got {temperature}");
        foreach (int id in ids) if ((uint)id >= (uint)c.VocabSize) throw new ArgumentException($"token id {id} is outside the vocabulary [0, {c.VocabSize})");

        var (q, k, v) = QueryKeyValue(model, ids, layer, head, call);
        double[,] Matrix(float[] x)                      // (T, D) floats → doubles
        {
            var m = new double[T, D];
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) m[t, d] = x[t * D + d];
            return m;
        }
        var options = call?.AttentionOptions ?? model.AttentionOptions;
        double baseScale = scaled ? options.ScaleFor(D) : 1.0;
        return AttentionTrace.Compute(Matrix(q), Matrix(k), Matrix(v), options.IsCausal, mask: null, scale: baseScale / temperature);
    }

    /// <summary>The (T, D) queries, keys and values of one head as the model computed them in a forward pass over
    /// <paramref name="ids"/> (for running other kernels and masks on a real head): <c>hook_q</c>, <c>hook_k</c> and
    /// <c>hook_v</c> of that block, read with <see cref="DecoderModel.RunWithCache"/>.</summary>
    /// <param name="call">the forward's kernel and masks (they shape the earlier blocks); null = the model's</param>
    public static (float[] Q, float[] K, float[] V) QueryKeyValue(DecoderModel model, IReadOnlyList<int> ids, int layer, int head, ForwardOptions? call = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        var c = model.Config;
        int T = ids.Count, D = c.HeadDim;
        if (layer < 0 || layer >= c.Layers) throw new ArgumentException($"layer must be in [0, {c.Layers - 1}] for this {c.Layers}-layer model, got {layer}");
        if (head < 0 || head >= c.Heads) throw new ArgumentException($"head must be in [0, {c.Heads - 1}] for this {c.Heads}-head model, got {head}");
        string prefix = $"blocks.{layer}.attn.hook_";
        var (_, cache) = model.RunWithCache(ids.ToArray(), name => name == prefix + "q" || name == prefix + "k" || name == prefix + "v", call);
        float[] Head(string name)                        // (1, T, H, D) → (T, D)
        {
            var x = cache[prefix + name].Data;
            var result = new float[T * D];
            for (int t = 0; t < T; t++) x.AsSpan((t * c.Heads + head) * D, D).CopyTo(result.AsSpan(t * D, D));
            return result;
        }
        return (Head("q"), Head("k"), Head("v"));
    }
}
