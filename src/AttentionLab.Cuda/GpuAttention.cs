using AttentionLab.Attention;
using ILGPU;
using ILGPU.Runtime;

namespace AttentionLab.Cuda;

/// <summary>
/// An attention kernel on the device, picked by name as on the CPU: <c>naive</c> (also <c>reference</c> and
/// <c>fast</c>: the materializing kernel) or <c>flash</c>. Same contract as <see cref="IAttentionKernel"/>, over device
/// views: the caller keeps <see cref="SavedLength"/> floats between forward and backward (weights for naive, one
/// log-sum-exp per query row for flash). Masks: causal, sliding window and key padding; explicit boolean or additive
/// masks are CPU-only.
/// </summary>
public sealed class GpuAttention : IDisposable
{
    private readonly GpuOps _ops;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;
    private MemoryBuffer1D<int, Stride1D.Dense>? _padding;

    private GpuAttention(GpuOps ops, string name, bool isFlash) { _ops = ops; Name = name; IsFlash = isFlash; }

    /// <summary>The kernel's name ("naive" or "flash").</summary>
    public string Name { get; }

    /// <summary>True for the tiled online-softmax kernel, false for the materializing one.</summary>
    public bool IsFlash { get; }

    /// <summary>The device kernel for a CPU kernel name, or an <see cref="ArgumentException"/> naming the ones the GPU has.</summary>
    public static GpuAttention Create(GpuOps ops, string name)
    {
        ArgumentNullException.ThrowIfNull(ops);
        return name.Trim().ToLowerInvariant() switch
        {
            "naive" or "reference" or "fast" => new GpuAttention(ops, "naive", false),
            "flash" => new GpuAttention(ops, "flash", true),
            _ => throw new ArgumentException($"attention kernel '{name}' has no GPU version; the GPU has naive and flash"),
        };
    }

    /// <summary>Floats forward saves for backward: (B, H, Tq, Tk) weights, or (B, H, Tq) log-sum-exps for flash.</summary>
    public long SavedLength(AttentionShape shape) =>
        IsFlash ? (long)shape.Batch * shape.Heads * shape.QueryLength : shape.WeightElements;

    /// <param name="q">(B, H, Tq, D)</param>
    /// <param name="k">(B, H, Tk, D)</param>
    /// <param name="v">(B, H, Tk, D)</param>
    /// <param name="output">(B, H, Tq, D)</param>
    /// <param name="saved">(<see cref="SavedLength"/>), or empty for inference</param>
    public void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, AttentionShape shape, AttentionOptions options,
        ArrayView<float> output, ArrayView<float> saved)
    {
        var a = Arguments(shape, options, out var padding);
        Check(q, shape.QueryElements, "q"); Check(k, shape.KeyElements, "k"); Check(v, shape.KeyElements, "v");
        Check(output, shape.QueryElements, "output");
        long savedLength = SavedLength(shape);
        if (saved.Length == 0) saved = Scratch(savedLength).SubView(0, savedLength);
        else Check(saved, savedLength, "saved");
        if (shape.QueryElements == 0) return;
        if (IsFlash) _ops.FlashAttentionForward(q, k, v, a, padding, output, saved);
        else _ops.NaiveAttentionForward(q, k, v, a, padding, output, saved);
    }

    /// <summary>
    /// Attention of n new positions against a <see cref="DeviceKvCache"/> whose first Tk = start + n positions are filled
    /// (the new ones included): S = scale·q·Kᵀ over the cached keys, the masks (causal aligned bottom-right: new query i
    /// sees keys 0 … start + i), the row softmax and O = P·V, as batched GEMMs over the heads that read the cache in
    /// place (stride Tmax·D per head). For one new token that is one score row per head, O(Tk) memory for either kernel;
    /// inference only, nothing is saved.
    /// </summary>
    /// <param name="q">(1, H, n, D) the new queries</param>
    /// <param name="keys">(H, Tmax, D) the layer's cached keys</param>
    /// <param name="values">(H, Tmax, D) the layer's cached values</param>
    /// <param name="output">(1, H, n, D)</param>
    public void ForwardCached(ArrayView<float> q, ArrayView<float> keys, ArrayView<float> values, int heads, int newLength, int keyLength,
        int capacity, int headDim, AttentionOptions options, ArrayView<float> output)
    {
        if (newLength < 1 || keyLength < newLength || keyLength > capacity)
            throw new ArgumentOutOfRangeException(nameof(keyLength), $"need 1 ≤ n ≤ Tk ≤ Tmax, got n {newLength}, Tk {keyLength}, Tmax {capacity}");
        var shape = new AttentionShape(1, heads, newLength, keyLength, headDim);
        var a = Arguments(shape, options, out var padding);
        Check(q, shape.QueryElements, "q"); Check(output, shape.QueryElements, "output");
        Check(keys, (long)heads * capacity * headDim, "keys"); Check(values, (long)heads * capacity * headDim, "values");
        var scores = Scratch(shape.WeightElements);                                                     // (H, n, Tk)
        long sQ = (long)newLength * headDim, sK = (long)capacity * headDim, sW = (long)newLength * keyLength;
        _ops.MatMul(q, keys, scores, newLength, keyLength, headDim, transposeB: true, alpha: a.Scale, batch: heads, strideA: sQ, strideB: sK, strideC: sW);
        _ops.MaskScores(scores, a, padding);
        _ops.SoftmaxForward(scores, scores, heads * newLength, keyLength);
        _ops.MatMul(scores, values, output, newLength, headDim, keyLength, batch: heads, strideA: sW, strideB: sK, strideC: sQ);
    }

    /// <summary>dq, dk, dv (overwritten) from dOutput; <paramref name="saved"/> must be what forward saved for these
    /// inputs (empty: recomputed with one extra forward).</summary>
    public void Backward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output, ArrayView<float> saved,
        ArrayView<float> dOutput, AttentionShape shape, AttentionOptions options, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv)
    {
        var a = Arguments(shape, options, out var padding);
        Check(dOutput, shape.QueryElements, "dOutput"); Check(dq, shape.QueryElements, "dq");
        Check(dk, shape.KeyElements, "dk"); Check(dv, shape.KeyElements, "dv");
        long savedLength = SavedLength(shape);
        long rows = (long)shape.Batch * shape.Heads * shape.QueryLength;
        bool recompute = saved.Length == 0;
        if (!recompute) Check(saved, savedLength, "saved");
        if (shape.QueryElements == 0) return;
        // one scratch for everything: [recomputed saved state | recomputed output | dScores (naive) or rowDot (flash)]
        long work = IsFlash ? rows : savedLength;
        var scratch = Scratch((recompute ? savedLength + shape.QueryElements : 0) + work);
        if (recompute)
        {
            // the memory-for-compute trade: run the forward again for the state it would have saved
            saved = scratch.SubView(0, savedLength);
            var discard = scratch.SubView(savedLength, shape.QueryElements);
            if (IsFlash) _ops.FlashAttentionForward(q, k, v, a, padding, discard, saved);
            else _ops.NaiveAttentionForward(q, k, v, a, padding, discard, saved);
            scratch = scratch.SubView(savedLength + shape.QueryElements, work);
        }
        if (shape.KeyElements == 0) { _ops.Zero(dq); return; }
        if (IsFlash) _ops.FlashAttentionBackward(q, k, v, output, saved, dOutput, a, padding, scratch.SubView(0, rows), dq, dk, dv);
        else _ops.NaiveAttentionBackward(q, k, v, saved, dOutput, a, scratch.SubView(0, savedLength), dq, dk, dv);
    }

    /// <summary>The device arguments of these options (key padding uploaded), or why the GPU cannot run them.</summary>
    private AttentionArgs Arguments(AttentionShape shape, AttentionOptions options, out ArrayView<int> padding)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(shape);
        if (options.BooleanMask is not null || options.AdditiveMask is not null)
            throw new NotSupportedException("explicit boolean and additive attention masks are CPU-only; the GPU kernels take causal, window and key padding");
        if (IsFlash && shape.HeadDim > GpuOps.FlashMaxHeadDim)
            throw new NotSupportedException($"the GPU flash kernel holds head dimensions up to {GpuOps.FlashMaxHeadDim}, got {shape.HeadDim}");
        if (shape.HeadDim < 1) throw new ArgumentOutOfRangeException(nameof(shape), $"the head dimension must be at least 1, got {shape}");
        long padLength = options.KeyPaddingMask?.Length ?? 1;
        if (_padding is null || _padding.Length < padLength)
        {
            _padding?.Dispose();
            _padding = _ops.Accelerator.Allocate1D<int>(Math.Max(1, padLength));
        }
        padding = _padding.View.SubView(0, padLength);
        if (options.KeyPaddingMask is { } pad)
        {
            var ints = new int[pad.Length];
            for (int i = 0; i < pad.Length; i++) ints[i] = pad[i] ? 1 : 0;
            GpuOps.Upload(ints, padding);
        }
        var window = options.Window;
        return new AttentionArgs(shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength, shape.HeadDim, options.ScaleFor(shape.HeadDim),
            options.IsCausal ? 1 : 0, window?.Before ?? -1, window?.After ?? 0, options.KeyPaddingMask is null ? 0 : 1);
    }

    /// <summary>A device scratch view of at least <paramref name="length"/> floats (grown, never shrunk).</summary>
    private ArrayView<float> Scratch(long length)
    {
        length = Math.Max(1, length);
        if (_scratch is null || _scratch.Length < length)
        {
            _scratch?.Dispose();
            _scratch = _ops.Accelerator.Allocate1D<float>(length);
        }
        return _scratch.View.SubView(0, length);
    }

    private static void Check(ArrayView<float> view, long expected, string name)
    {
        if (view.Length != expected) throw new ArgumentException($"{name} has {view.Length} elements; the attention shape needs {expected}");
    }

    public void Dispose()
    {
        _scratch?.Dispose(); _scratch = null;
        _padding?.Dispose(); _padding = null;
    }
}
