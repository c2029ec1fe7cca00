namespace AttentionLab.Attention;

/// <summary>Sizes of one attention call: q is (B, H, Tq, D); k and v are (B, H, Tk, D).</summary>
public readonly record struct AttentionShape(int Batch, int Heads, int QueryLength, int KeyLength, int HeadDim)
{
    public int QueryElements => Batch * Heads * QueryLength * HeadDim;
    public int KeyElements => Batch * Heads * KeyLength * HeadDim;
    public int WeightElements => Batch * Heads * QueryLength * KeyLength;
}

/// <summary>
/// One algorithm for <c>softmax(q·kᵀ·scale + mask)·v</c>. Exact (reference, fast, Flash-style tiled) and
/// approximate (Longformer sliding window + global, Performer) kernels plug in behind this interface and
/// are picked by <see cref="Name"/>.
/// Parameter order follows the project rule: inputs, then arguments, then outputs.
/// </summary>
public interface IAttentionKernel
{
    /// <summary>The name users pick it by (e.g. "reference", "fast").</summary>
    string Name { get; }

    /// <param name="q">(B, H, Tq, D)</param>
    /// <param name="k">(B, H, Tk, D)</param>
    /// <param name="v">(B, H, Tk, D)</param>
    /// <param name="shape">the sizes</param>
    /// <param name="options">scale and masks</param>
    /// <param name="output">(B, H, Tq, D)</param>
    /// <param name="weights">(B, H, Tq, Tk) attention probabilities, or empty when the caller does not want them
    /// (kernels that need them for backward say so in their docs).</param>
    void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        AttentionShape shape, AttentionOptions options,
        Span<float> output, Span<float> weights);

    /// <summary>Gradients of the loss with respect to q, k and v, given dL/d(output). Overwrites dq, dk, dv.</summary>
    /// <param name="weights">(B, H, Tq, Tk) from <see cref="Forward"/>.</param>
    void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> dOutput, AttentionShape shape, AttentionOptions options,
        Span<float> dq, Span<float> dk, Span<float> dv);
}
