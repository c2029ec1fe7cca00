using AttentionLab.Tensors;

namespace AttentionLab.Attention;

/// <summary>
/// Tensor-level calls of any <see cref="IAttentionKernel"/>, for the command line, notebooks and tests:
/// the sizes come from the tensor shapes instead of an <see cref="AttentionShape"/>.
/// </summary>
public static class AttentionTensorExtensions
{
    /// <summary>
    /// <c>softmax(q·kᵀ·scale + mask)·v</c> on tensors shaped (B, H, Tq, D) / (B, H, Tk, D), or (Tq, D) / (Tk, D)
    /// for a single head (the pen-and-paper form).
    /// </summary>
    /// <returns>the output, shaped like <paramref name="q"/>, and the weights (…, Tq, Tk)</returns>
    public static (Tensor Output, Tensor Weights) Forward(this IAttentionKernel kernel, Tensor q, Tensor k, Tensor v,
        AttentionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var shape = ShapeOf(q, k, v);
        var output = new Tensor(q.Shape);
        var weights = q.Rank == 2 ? new Tensor(shape.QueryLength, shape.KeyLength)
            : new Tensor(shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength);
        options ??= AttentionOptions.Default;
        kernel.Forward(q.Data, k.Data, v.Data, shape, options, output.Data, default);
        kernel.Weights(q.Data, k.Data, v.Data, shape, options, weights.Data); // inspection: materialized on request
        return (output, weights);
    }

    /// <summary>The <see cref="AttentionShape"/> of tensors shaped (B, H, Tq, D), (B, H, Tk, D), (B, H, Tk, D) or (Tq, D), (Tk, D), (Tk, D).</summary>
    public static AttentionShape ShapeOf(Tensor q, Tensor k, Tensor v)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        string Shapes() => $"q {Tensor.ShapeString(q.Shape)}, k {Tensor.ShapeString(k.Shape)}, v {Tensor.ShapeString(v.Shape)}";
        if (q.Rank != k.Rank || q.Rank != v.Rank || (q.Rank != 2 && q.Rank != 4))
            throw new ArgumentException($"q, k, v must all be (B, H, T, D) or all (T, D); got {Shapes()}");
        var shape = q.Rank == 2
            ? new AttentionShape(1, 1, q.Dim(0), k.Dim(0), q.Dim(1))
            : new AttentionShape(q.Dim(0), q.Dim(1), q.Dim(2), k.Dim(2), q.Dim(3));
        if (!k.Shape.SequenceEqual(v.Shape) || k.Dim(-1) != shape.HeadDim
            || (q.Rank == 4 && (k.Dim(0) != shape.Batch || k.Dim(1) != shape.Heads)))
            throw new ArgumentException($"k and v must be (B, H, Tk, D) with q's B, H and D; got {Shapes()}");
        return shape;
    }
}
