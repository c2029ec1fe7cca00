namespace AttentionLab.Tensors;

/// <summary>
/// A dense float32 tensor: a shape and one contiguous row-major buffer.
/// Deliberately small — it is a container with shape bookkeeping, not an autograd engine.
/// Kernels take spans plus the shape letters (B, T, C, H, D) they need, as in llm.c.
/// </summary>
public sealed class Tensor
{
    /// <summary>The row-major storage; its length is the product of <see cref="Shape"/>.</summary>
    public float[] Data { get; }

    /// <summary>The size of each dimension, outermost first.</summary>
    public int[] Shape { get; }

    public int Rank => Shape.Length;
    public int Length => Data.Length;
    public Span<float> Span => Data;

    /// <summary>A zero-filled tensor of the given shape.</summary>
    public Tensor(params int[] shape)
    {
        Shape = (int[])shape.Clone();
        Data = new float[ElementCount(Shape)];
    }

    /// <summary>Wraps existing storage (no copy). The data length must equal the product of the shape.</summary>
    public Tensor(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        Shape = (int[])shape.Clone();
        long n = ElementCount(Shape);
        if (n != data.Length)
            throw new ArgumentException($"data has {data.Length} elements but shape {ShapeString(shape)} needs {n}");
        Data = data;
    }

    /// <summary>Size of dimension <paramref name="dim"/>; negative counts from the end like PyTorch.</summary>
    public int Dim(int dim) => Shape[dim < 0 ? Shape.Length + dim : dim];

    public float this[params int[] index]
    {
        get => Data[Offset(index)];
        set => Data[Offset(index)] = value;
    }

    /// <summary>
    /// Same storage, new shape — PyTorch's <c>view</c>. One dimension may be -1 and is inferred.
    /// </summary>
    public Tensor View(params int[] shape)
    {
        var s = (int[])shape.Clone();
        int infer = Array.IndexOf(s, -1);
        if (infer >= 0)
        {
            long known = 1;
            for (int i = 0; i < s.Length; i++) if (i != infer) known *= s[i];
            if (known == 0 || Length % known != 0)
                throw new ArgumentException($"cannot view {ShapeString(Shape)} as {ShapeString(shape)}");
            s[infer] = (int)(Length / known);
        }
        if (ElementCount(s) != Length)
            throw new ArgumentException($"cannot view {ShapeString(Shape)} ({Length} elements) as {ShapeString(shape)}");
        return new Tensor(Data, s);
    }

    /// <summary>
    /// Swaps two dimensions and returns a new contiguous tensor — PyTorch's
    /// <c>transpose(a, b).contiguous()</c>. (A strided view would save the copy; this type keeps
    /// every tensor contiguous so every kernel can assume row-major layout.)
    /// </summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        int r = Rank;
        dim0 = dim0 < 0 ? r + dim0 : dim0;
        dim1 = dim1 < 0 ? r + dim1 : dim1;
        var outShape = (int[])Shape.Clone();
        (outShape[dim0], outShape[dim1]) = (outShape[dim1], outShape[dim0]);
        var result = new Tensor(outShape);
        var inStrides = Strides(Shape);
        var outIndex = new int[r];
        for (int o = 0; o < Length; o++)
        {
            // decompose o in the output shape, map to the input offset with the two dims swapped
            int rem = o, inOffset = 0;
            for (int d = r - 1; d >= 0; d--)
            {
                outIndex[d] = rem % outShape[d];
                rem /= outShape[d];
            }
            for (int d = 0; d < r; d++)
            {
                int src = d == dim0 ? dim1 : d == dim1 ? dim0 : d;
                inOffset += outIndex[d] * inStrides[src];
            }
            result.Data[o] = Data[inOffset];
        }
        return result;
    }

    public Tensor Clone() => new((float[])Data.Clone(), Shape);

    public static Tensor Zeros(params int[] shape) => new(shape);

    /// <summary>Row-major strides, in elements.</summary>
    public static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
        return strides;
    }

    public static long ElementCount(int[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape {ShapeString(shape)}");
            n *= d;
        }
        if (n > Array.MaxLength) throw new ArgumentException($"shape {ShapeString(shape)} is too large");
        return n;
    }

    /// <summary>PyTorch-style shape text: <c>(1, 4, 8)</c>.</summary>
    public static string ShapeString(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + ")";

    public override string ToString() => $"Tensor{ShapeString(Shape)}";

    private int Offset(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"expected {Rank} indices, got {index.Length}");
        int offset = 0;
        for (int d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d]) throw new IndexOutOfRangeException($"index {index[d]} out of range for dim {d} of size {Shape[d]}");
            offset = offset * Shape[d] + index[d];
        }
        return offset;
    }
}
