using AttentionLab.Attention;

namespace AttentionLab.Models;

/// <summary>GPT-2's attention beyond the kernel call: the KV-cache path, head gates, and the weights materialized for
/// inspection.</summary>
public sealed partial class Gpt2Model
{
    private float[]? _observed;           // (B, H, T, T) weights handed to ObserveAttention (inference forward)

    /// <summary>
    /// Called once per block during each full <see cref="Forward"/> (not <see cref="ForwardCached"/>) with that
    /// block's (B, H, T, T) attention weights, right after its attention ran. A kernel that saves its weights
    /// (<see cref="IAttentionKernel.SavesWeights"/>) hands them over from the same forward call; any other kernel
    /// materializes them once more from the same q, k and v. The memory is reused for the next block: read or copy
    /// it during the call. Inspection uses this to summarize every layer without keeping L·H·T² floats.
    /// </summary>
    public AttentionObserver? ObserveAttention { get; set; }

    /// <summary>Runs block <paramref name="l"/>'s attention and hands its weights to <paramref name="observer"/>.</summary>
    private void ObservedAttention(Gpt2Activations a, int l, AttentionShape shape, AttentionObserver observer)
    {
        var s = a.Blocks[l];
        int size = shape.WeightElements;
        Memory<float> weights;
        if (Attention.SavesWeights && s.AttentionSaved.Length == size)
        {
            // training: the saved state is the weights
            Attention.Forward(a[s.Q], a[s.K], a[s.V], shape, AttentionOptions, a[s.AttentionOutput], a[s.AttentionSaved]);
            weights = a.Data.AsMemory(s.AttentionSaved.Offset, size);
        }
        else
        {
            if (_observed is null || _observed.Length < size) _observed = new float[size];
            weights = _observed.AsMemory(0, size);
            if (Attention.SavesWeights && s.AttentionSaved.Length == 0)
                Attention.Forward(a[s.Q], a[s.K], a[s.V], shape, AttentionOptions, a[s.AttentionOutput], weights.Span);
            else
            {
                Attention.Forward(a[s.Q], a[s.K], a[s.V], shape, AttentionOptions, a[s.AttentionOutput], a[s.AttentionSaved]);
                Attention.Weights(a[s.Q], a[s.K], a[s.V], shape, AttentionOptions, weights.Span);
            }
        }
        observer(l, weights);
    }

    /// <summary>
    /// (B, H, T, Tk) attention probabilities of block <paramref name="layer"/> in the last forward, materialized now by
    /// the kernel from that forward's q, k and v (training never materializes them unless the kernel needs them).
    /// Tk = T after <see cref="Forward"/>; the cached plus new positions after <see cref="ForwardCached"/>.
    /// Head gates do not change the weights (they scale the head's output).
    /// </summary>
    /// <param name="kernel">materialize with this kernel instead of the model's (e.g. an exact one, to measure an
    /// approximation's error on the same q, k and v); null = the model's</param>
    public float[] AttentionWeights(int layer, IAttentionKernel? kernel = null)
    {
        kernel ??= Attention;
        var a = RequireForward();
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Config.Layers);
        var s = a.Blocks[layer];
        int h = Config.Heads, d = Config.HeadDim, t = a.Length;
        if (_cachedRun is null)
        {
            var shape = new AttentionShape(a.Batch, h, t, t, d);
            var weights = new float[shape.WeightElements];
            kernel.Weights(a[s.Q], a[s.K], a[s.V], shape, AttentionOptions, weights);
            return weights;
        }
        var cache = _cachedRun;
        int tk = _cachedStart + t;
        if (cache.Length != tk) throw new InvalidOperationException("the KV cache has changed since the last ForwardCached");
        var headShape = new AttentionShape(1, 1, t, tk, d);
        var result = new float[h * t * tk];
        for (int hh = 0; hh < h; hh++)
            kernel.Weights(a[s.Q].Slice(hh * t * d, t * d), cache.Keys(layer, hh, 0, tk), cache.Values(layer, hh, 0, tk),
                headShape, AttentionOptions, result.AsSpan(hh * t * tk, t * tk));
        return result;
    }

    /// <summary>
    /// Attention of the new positions against the cache: appends the new keys and values of layer
    /// <paramref name="l"/>, then runs the kernel per head with q (1, 1, n, D) against k, v (1, 1, Tk, D), Tk = the
    /// cached positions plus the new ones (causal aligned bottom-right: new query i sees keys 0 … start + i).
    /// </summary>
    private void CachedAttention(Gpt2Activations a, int l, KvCache cache)
    {
        var s = a.Blocks[l];
        int n = a.Length, h = Config.Heads, d = Config.HeadDim, start = _cachedStart, tk = start + n;
        var q = a[s.Q]; var k = a[s.K]; var v = a[s.V]; var o = a[s.AttentionOutput];
        for (int hh = 0; hh < h; hh++)
        {
            k.Slice(hh * n * d, n * d).CopyTo(cache.Keys(l, hh, start, n));
            v.Slice(hh * n * d, n * d).CopyTo(cache.Values(l, hh, start, n));
        }
        var shape = new AttentionShape(1, 1, n, tk, d);
        for (int hh = 0; hh < h; hh++)
            Attention.Forward(q.Slice(hh * n * d, n * d), cache.Keys(l, hh, 0, tk), cache.Values(l, hh, 0, tk),
                shape, AttentionOptions, o.Slice(hh * n * d, n * d), default);
    }

    /// <summary>Multiplies head h's columns of the merged heads (N, C) by its gate, when gates are set (the kernel's
    /// own output stays ungated: its backward may need it as it was).</summary>
    private void GateMerged(Span<float> merged, int l, int n)
    {
        if (_headGates is null) return;
        int h = Config.Heads, d = Config.HeadDim, c = Config.Channels;
        for (int r = 0; r < n; r++)
            for (int hh = 0; hh < h; hh++)
            {
                float gate = _headGates[l * h + hh];
                if (gate == 1f) continue;
                var cols = merged.Slice(r * c + hh * d, d);
                System.Numerics.Tensors.TensorPrimitives.Multiply(cols, gate, cols);
            }
    }

    /// <summary>Multiplies head h of layer l's (B, H, T, D) gradient by its gate, when gates are set.</summary>
    private void GateHeads(Span<float> headsOutput, int l, int batch, int length)
    {
        if (_headGates is null) return;
        int h = Config.Heads, d = Config.HeadDim;
        for (int b = 0; b < batch; b++)
            for (int hh = 0; hh < h; hh++)
            {
                float gate = _headGates[l * h + hh];
                if (gate == 1f) continue;
                System.Numerics.Tensors.TensorPrimitives.Multiply(headsOutput.Slice((b * h + hh) * length * d, length * d), gate,
                    headsOutput.Slice((b * h + hh) * length * d, length * d));
            }
    }
}

/// <summary>Receives one block's attention weights during a forward pass.</summary>
/// <param name="layer">the block</param>
/// <param name="weights">(B, H, T, T) probabilities, row = query, column = key; valid only during the call</param>
public delegate void AttentionObserver(int layer, ReadOnlyMemory<float> weights);
