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
    /// <param name="model">an inference GPT-2 (its kernel and attention options are used; restored afterwards)</param>
    /// <param name="ids">(T) token ids</param>
    /// <param name="scaled">true: divide the scores by √D as the model does; false: leave them unscaled</param>
    /// <param name="temperature">divides the (scaled) scores; below 1 sharpens the rows, above 1 flattens them</param>
    public static AttentionTrace Trace(Gpt2Model model, IReadOnlyList<int> ids, int layer, int head, bool scaled = true, double temperature = 1.0)
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

        var (q, k, v) = QueryKeyValue(model, ids, layer, head);
        double[,] Matrix(float[] x)                      // (T, D) floats → doubles
        {
            var m = new double[T, D];
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) m[t, d] = x[t * D + d];
            return m;
        }
        var options = model.AttentionOptions;
        double baseScale = scaled ? options.ScaleFor(D) : 1.0;
        return AttentionTrace.Compute(Matrix(q), Matrix(k), Matrix(v), options.IsCausal, mask: null, scale: baseScale / temperature);
    }

    /// <summary>The (T, D) queries, keys and values of one head as the model computed them in a forward pass over
    /// <paramref name="ids"/> (for running other kernels and masks on a real head).</summary>
    public static (float[] Q, float[] K, float[] V) QueryKeyValue(Gpt2Model model, IReadOnlyList<int> ids, int layer, int head)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        var c = model.Config;
        int T = ids.Count, D = c.HeadDim;
        if (layer < 0 || layer >= c.Layers) throw new ArgumentException($"layer must be in [0, {c.Layers - 1}] for this {c.Layers}-layer model, got {layer}");
        if (head < 0 || head >= c.Heads) throw new ArgumentException($"head must be in [0, {c.Heads - 1}] for this {c.Heads}-head model, got {head}");
        var kernel = model.Attention;
        var capture = new CapturingKernel(kernel);
        try
        {
            model.Forward(ids.ToArray(), 1, T);
            model.Attention = capture;
            model.AttentionWeights(layer);              // hands the layer's q, k, v (1, H, T, D) to the capture
        }
        finally { model.Attention = kernel; }
        float[] Head(float[] x) => x.AsSpan(head * T * D, T * D).ToArray();   // (1, H, T, D) → (T, D)
        return (Head(capture.Q!), Head(capture.K!), Head(capture.V!));
    }

    /// <summary>Passes every call to the real kernel and keeps a copy of the q, k, v of the last weights call.</summary>
    private sealed class CapturingKernel(IAttentionKernel inner) : IAttentionKernel
    {
        public float[]? Q, K, V;
        public string Name => inner.Name;
        public bool IsExact => inner.IsExact;
        public long SavedLength(AttentionShape shape) => inner.SavedLength(shape);

        public void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape, AttentionOptions options,
            Span<float> output, Span<float> saved) => inner.Forward(q, k, v, shape, options, output, saved);

        public void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output, ReadOnlySpan<float> saved,
            ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options, Span<float> dq, Span<float> dk, Span<float> dv) =>
            inner.Backward(q, k, v, output, saved, dOutput, shape, options, dq, dk, dv);

        public void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape, AttentionOptions options, Span<float> weights)
        {
            (Q, K, V) = (q.ToArray(), k.ToArray(), v.ToArray());
            inner.Weights(q, k, v, shape, options, weights);
        }
    }
}
