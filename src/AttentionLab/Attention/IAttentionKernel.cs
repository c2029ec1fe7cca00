namespace AttentionLab.Attention;

/// <summary>Sizes of one attention call: q is (B, H, Tq, D); k and v are (B, H, Tk, D).</summary>
public readonly record struct AttentionShape(int Batch, int Heads, int QueryLength, int KeyLength, int HeadDim)
{
    public int QueryElements => Batch * Heads * QueryLength * HeadDim;
    public int KeyElements => Batch * Heads * KeyLength * HeadDim;
    public int WeightElements => Batch * Heads * QueryLength * KeyLength;

    /// <summary>Self-attention sizes: Tq = Tk = T.</summary>
    public static AttentionShape Self(int batch, int heads, int length, int headDim) => new(batch, heads, length, length, headDim);
}

/// <summary>
/// One algorithm for <c>softmax(q·kᵀ·scale + mask)·v</c>. Exact kernels (naive, fast, Flash-style tiled) and
/// approximate ones (Longformer sliding window + global, Performer) plug in behind this interface and are picked by
/// name through <see cref="AttentionKernels.Parse"/> (<c>"flash"</c>, <c>"window:256,global:2"</c>,
/// <c>"performer:64"</c>). A kernel instance carries its own options (window, feature count, seed, tile size);
/// <see cref="AttentionOptions"/> carries what the caller decides (scale, causal, padding, explicit masks).
/// <para>
/// What a kernel keeps between <see cref="Forward"/> and <see cref="Backward"/> is its own business: the caller
/// allocates <see cref="SavedLength"/> floats and hands them back untouched. The materializing kernels save the
/// (B, H, Tq, Tk) weights; Flash saves one log-sum-exp per query row (B, H, Tq). The weights themselves are
/// materialized only when a caller asks for them (<see cref="Weights"/>, for inspection).
/// </para>
/// Parameter order follows the project rule: inputs, then arguments, then outputs.
/// A query row whose keys are all masked gets weights 0 and output 0 (and zero gradients) — never NaN.
/// </summary>
public interface IAttentionKernel
{
    /// <summary>The name users pick it by, with its own options, parseable by <see cref="AttentionKernels.Parse"/>
    /// (e.g. "naive", "flash", "window:256,global:2").</summary>
    string Name { get; }

    /// <summary>True when the kernel computes exact softmax attention (equal to <c>naive</c> to float rounding for
    /// every mask); false for approximations (Performer) and for kernels that change the mask (window).</summary>
    bool IsExact { get; }

    /// <summary>Floats <see cref="Forward"/> saves for <see cref="Backward"/> for a call of this shape.</summary>
    long SavedLength(AttentionShape shape);

    /// <summary>True when what <see cref="Forward"/> saves is exactly the (B, H, Tq, Tk) weights that
    /// <see cref="Weights"/> would materialize, so a caller that wants both the output and the weights (inspection)
    /// can get them from one forward instead of two.</summary>
    bool SavesWeights => false;

    /// <summary>True when <see cref="Forward"/> may run on several threads at once on different data (the kernel keeps no
    /// state between calls), so a caller may run independent heads in parallel. False unless a kernel says so.</summary>
    bool CallsMayOverlap => false;

    /// <param name="q">(B, H, Tq, D)</param>
    /// <param name="k">(B, H, Tk, D)</param>
    /// <param name="v">(B, H, Tk, D)</param>
    /// <param name="shape">the sizes</param>
    /// <param name="options">scale and masks</param>
    /// <param name="output">(B, H, Tq, D), overwritten</param>
    /// <param name="saved">(<see cref="SavedLength"/>) what backward needs, overwritten; empty when the caller will not
    /// call backward (inference), and then nothing is saved.</param>
    void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options,
        Span<float> output, Span<float> saved);

    /// <summary>Gradients of the loss with respect to q, k and v, given dL/d(output). Overwrites dq, dk, dv.</summary>
    /// <param name="output">(B, H, Tq, D) from <see cref="Forward"/></param>
    /// <param name="saved">what <see cref="Forward"/> saved with the same inputs and options; empty makes the kernel
    /// recompute what it needs (one extra forward).</param>
    /// <param name="dOutput">(B, H, Tq, D)</param>
    /// <param name="dq">(B, H, Tq, D)</param>
    /// <param name="dk">(B, H, Tk, D)</param>
    /// <param name="dv">(B, H, Tk, D)</param>
    void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
        ReadOnlySpan<float> saved, ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
        Span<float> dq, Span<float> dk, Span<float> dv);

    /// <summary>The (B, H, Tq, Tk) attention probabilities this kernel applies (its approximation, for an approximate
    /// kernel; 0 where masked or skipped), materialized for inspection. Costs O(Tq·Tk) memory by definition.</summary>
    void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> weights);
}

/// <summary>Edge checks shared by every kernel, so the inner loops can stay free of them.</summary>
internal static class AttentionChecks
{
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> output, Span<float> saved, long savedLength)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes(shape);
        Length(q.Length, shape.QueryElements, "q", "(B, H, Tq, D)");
        Length(k.Length, shape.KeyElements, "k", "(B, H, Tk, D)");
        Length(v.Length, shape.KeyElements, "v", "(B, H, Tk, D)");
        Length(output.Length, shape.QueryElements, "output", "(B, H, Tq, D)");
        if (!saved.IsEmpty) Length(saved.Length, savedLength, "saved", "the kernel's SavedLength");
        options.Validate(shape);
    }

    /// <summary>Checks of a <see cref="IAttentionKernel.Weights"/> call.</summary>
    public static void Weights(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options, Span<float> weights)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes(shape, materialized: true);
        Length(q.Length, shape.QueryElements, "q", "(B, H, Tq, D)");
        Length(k.Length, shape.KeyElements, "k", "(B, H, Tk, D)");
        Length(v.Length, shape.KeyElements, "v", "(B, H, Tk, D)");
        Length(weights.Length, shape.WeightElements, "weights", "(B, H, Tq, Tk)");
        options.Validate(shape);
    }

    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> output,
        ReadOnlySpan<float> saved, long savedLength,
        ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options, Span<float> dq, Span<float> dk, Span<float> dv)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes(shape);
        Length(q.Length, shape.QueryElements, "q", "(B, H, Tq, D)");
        Length(k.Length, shape.KeyElements, "k", "(B, H, Tk, D)");
        Length(v.Length, shape.KeyElements, "v", "(B, H, Tk, D)");
        Length(output.Length, shape.QueryElements, "output", "(B, H, Tq, D)");
        if (!saved.IsEmpty) Length(saved.Length, savedLength, "saved", "the kernel's SavedLength");
        Length(dOutput.Length, shape.QueryElements, "dOutput", "(B, H, Tq, D)");
        Length(dq.Length, shape.QueryElements, "dq", "(B, H, Tq, D)");
        Length(dk.Length, shape.KeyElements, "dk", "(B, H, Tk, D)");
        Length(dv.Length, shape.KeyElements, "dv", "(B, H, Tk, D)");
        options.Validate(shape);
    }

    private static void Sizes(AttentionShape s, bool materialized = false)
    {
        if (s.Batch < 0 || s.Heads < 0 || s.QueryLength < 0 || s.KeyLength < 0 || s.HeadDim < 0)
            throw new ArgumentOutOfRangeException(nameof(s), $"attention sizes must be non-negative, got {s}");
        if (s.HeadDim == 0) throw new ArgumentOutOfRangeException(nameof(s), $"the head dimension D must be at least 1, got {s}");
        long bh = (long)s.Batch * s.Heads;
        if (bh * s.QueryLength * s.HeadDim > Array.MaxLength || bh * s.KeyLength * s.HeadDim > Array.MaxLength)
            throw new ArgumentException($"attention call (B={s.Batch}, H={s.Heads}, Tq={s.QueryLength}, Tk={s.KeyLength}, D={s.HeadDim}) is too large: q, k or v would exceed one array");
        // only the (B, H, Tq, Tk) weights, when a caller materializes them, must fit one array: Flash-style kernels never do
        if (materialized) Materializable(s);
    }

    /// <summary>Refuses a call whose (B, H, Tq, Tk) weights cannot be held in one array.</summary>
    public static void Materializable(AttentionShape s)
    {
        if ((long)s.Batch * s.Heads * s.QueryLength * s.KeyLength > Array.MaxLength)
            throw new ArgumentException($"the (B, H, Tq, Tk) = ({s.Batch}, {s.Heads}, {s.QueryLength}, {s.KeyLength}) attention weights are more than one array can hold; use a kernel that does not materialize them (flash)");
    }

    private static void Length(long actual, long expected, string name, string shapeText)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements; {shapeText} needs {expected}");
    }

    /// <summary>
    /// The weights a backward pass needs: the caller's, or — when it kept none — recomputed with the kernel's own
    /// forward (the memory-for-compute trade Flash-style kernels make on purpose).
    /// </summary>
    public static ReadOnlySpan<float> WeightsOrRecompute(IAttentionKernel kernel, ReadOnlySpan<float> q, ReadOnlySpan<float> k,
        ReadOnlySpan<float> v, ReadOnlySpan<float> weights, AttentionShape shape, AttentionOptions options)
    {
        if (!weights.IsEmpty) return weights;
        Materializable(shape);
        var recomputed = new float[shape.WeightElements];
        kernel.Weights(q, k, v, shape, options, recomputed);
        return recomputed;
    }
}
