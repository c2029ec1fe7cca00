using AttentionLab.Attention;

namespace AttentionLab.Layers;

/// <summary>
/// Attention written out step by step, for the hooks that read or replace its intermediate tensors: the scaled,
/// masked scores, their row softmax (the pattern) and the pattern's mix of the values. The plain reference of
/// what every kernel computes in one go; used only when a hook asks for these tensors.
/// </summary>
internal static class AttentionPattern
{
    /// <summary>scores[b, h, i, j] = q_i·k_j·scale + additive mask, −∞ where <see cref="AttentionOptions.Allows"/> says no.</summary>
    /// <param name="q">(B, H, Tq, D)</param>
    /// <param name="k">(B, H, Tk, D)</param>
    /// <param name="scores">(B, H, Tq, Tk), overwritten</param>
    public static void Scores(ReadOnlySpan<float> q, ReadOnlySpan<float> k, AttentionShape shape, AttentionOptions options, Span<float> scores)
    {
        int tq = shape.QueryLength, tk = shape.KeyLength, d = shape.HeadDim;
        float scale = options.ScaleFor(d);
        for (int b = 0; b < shape.Batch; b++)
            for (int h = 0; h < shape.Heads; h++)
            {
                int head = b * shape.Heads + h;
                for (int i = 0; i < tq; i++)
                {
                    var qi = q.Slice((head * tq + i) * d, d);
                    var row = scores.Slice((head * tq + i) * tk, tk);
                    for (int j = 0; j < tk; j++)
                        row[j] = options.Allows(b, h, i, j, shape)
                            ? System.Numerics.Tensors.TensorPrimitives.Dot(qi, k.Slice((head * tk + j) * d, d)) * scale + options.BiasAt(b, h, i, j)
                            : float.NegativeInfinity;
                }
            }
    }

    /// <summary>Row softmax of the scores, in place; a row whose keys are all masked (all −∞) becomes 0, as the kernels do.</summary>
    /// <param name="scores">(rows, Tk)</param>
    public static void Softmax(Span<float> scores, int keyLength)
    {
        for (int r = 0; r < scores.Length / keyLength; r++)
        {
            var row = scores.Slice(r * keyLength, keyLength);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
            if (float.IsNegativeInfinity(max)) { row.Clear(); continue; }
            double sum = 0;
            for (int j = 0; j < row.Length; j++) sum += row[j] = MathF.Exp(row[j] - max);
            float inverse = (float)(1.0 / sum);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, inverse, row);
        }
    }

    /// <summary>output[b, h, i] = Σ_j pattern[b, h, i, j]·v_j.</summary>
    /// <param name="pattern">(B, H, Tq, Tk)</param>
    /// <param name="v">(B, H, Tk, D)</param>
    /// <param name="output">(B, H, Tq, D), overwritten</param>
    public static void Mix(ReadOnlySpan<float> pattern, ReadOnlySpan<float> v, AttentionShape shape, Span<float> output)
    {
        int tq = shape.QueryLength, tk = shape.KeyLength, d = shape.HeadDim;
        output.Slice(0, shape.QueryElements).Clear();
        for (int head = 0; head < shape.Batch * shape.Heads; head++)
            for (int i = 0; i < tq; i++)
            {
                var o = output.Slice((head * tq + i) * d, d);
                var p = pattern.Slice((head * tq + i) * tk, tk);
                for (int j = 0; j < tk; j++)
                    if (p[j] != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(v.Slice((head * tk + j) * d, d), p[j], o, o);
            }
    }
}
