namespace AttentionLab.Attention;

/// <summary>
/// An explicit mask over the (Tq, Tk) score matrix, either boolean (true = the query may attend to the key)
/// or additive (a float added to the scaled score; −∞ masks the key, as in PyTorch's float <c>attn_mask</c>).
/// The mask may be shared by every batch element and head — shape (Tq, Tk) — or given per batch element
/// and/or per head: (B or 1, H or 1, Tq, Tk), broadcast like PyTorch.
/// </summary>
public sealed class AttentionMask
{
    /// <summary>Mask batch size: 1 (shared by every batch element) or B.</summary>
    public int Batch { get; }

    /// <summary>Mask head count: 1 (shared by every head) or H.</summary>
    public int Heads { get; }

    public int QueryLength { get; }
    public int KeyLength { get; }

    /// <summary>True for a float mask that is added to the scores; false for a boolean mask.</summary>
    public bool IsAdditive => Bias is not null;

    /// <summary>Boolean masks: (Batch, Heads, Tq, Tk), true = attend. Null for additive masks.</summary>
    public bool[]? Allowed { get; }

    /// <summary>Additive masks: (Batch, Heads, Tq, Tk) values added to the scaled scores. Null for boolean masks.</summary>
    public float[]? Bias { get; }

    private AttentionMask(bool[]? allowed, float[]? bias, int[] shape, int length)
    {
        if (shape.Length != 2 && shape.Length != 4)
            throw new ArgumentException($"an attention mask is (Tq, Tk) or (B, H, Tq, Tk), got shape {Tensors.Tensor.ShapeString(shape)}");
        if (shape.Length == 2) shape = [1, 1, shape[0], shape[1]];
        long n = Tensors.Tensor.ElementCount(shape);
        if (n != length)
            throw new ArgumentException($"mask has {length} elements but shape {Tensors.Tensor.ShapeString(shape)} needs {n}");
        (Batch, Heads, QueryLength, KeyLength) = (shape[0], shape[1], shape[2], shape[3]);
        Allowed = allowed;
        Bias = bias;
    }

    /// <summary>A boolean mask: <paramref name="allowed"/>[…] is true where the query may attend to the key.</summary>
    /// <param name="allowed">(Tq, Tk) or (B or 1, H or 1, Tq, Tk), row-major</param>
    public static AttentionMask FromBoolean(bool[] allowed, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        return new AttentionMask(allowed, null, shape, allowed.Length);
    }

    /// <summary>An additive mask: <paramref name="bias"/> is added to the scaled scores (−∞ removes a key).</summary>
    /// <param name="bias">(Tq, Tk) or (B or 1, H or 1, Tq, Tk), row-major</param>
    public static AttentionMask FromAdditive(float[] bias, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(bias);
        foreach (var x in bias)
            if (float.IsNaN(x) || float.IsPositiveInfinity(x))
                throw new ArgumentException($"additive mask entries must be finite or −∞, found {x}");
        return new AttentionMask(null, bias, shape, bias.Length);
    }

    /// <summary>Offset of row (b, h, i) in <see cref="Allowed"/> / <see cref="Bias"/>, with broadcasting.</summary>
    internal int RowOffset(int b, int h, int i) =>
        (((Batch == 1 ? 0 : b) * Heads + (Heads == 1 ? 0 : h)) * QueryLength + i) * KeyLength;

    internal void Validate(AttentionShape shape, string name)
    {
        if ((Batch != 1 && Batch != shape.Batch) || (Heads != 1 && Heads != shape.Heads)
            || QueryLength != shape.QueryLength || KeyLength != shape.KeyLength)
            throw new ArgumentException(
                $"{name} has shape ({Batch}, {Heads}, {QueryLength}, {KeyLength}); for q (B={shape.Batch}, H={shape.Heads}, Tq={shape.QueryLength}) " +
                $"and k (Tk={shape.KeyLength}) it must be ({shape.QueryLength}, {shape.KeyLength}) or (B or 1, H or 1, {shape.QueryLength}, {shape.KeyLength})");
    }
}
