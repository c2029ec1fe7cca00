namespace AttentionLab.Kernels;

/// <summary>
/// The plain product with 16-bit weights that <see cref="GemmHalf"/> is tested against: each weight widened by
/// <see cref="HalfConversion.ToSingle"/>, the products summed in double. Row-major:
/// <c>C[m×n] = A[m×k] · op(B)</c>, op(B) = B (stored k×n) or Bᵀ (B stored n×k), + C when accumulating.
/// </summary>
public static class GemmHalfReference
{
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<ushort> b, WeightFormat format, Span<float> c,
        int m, int n, int k, bool transposeB = false, bool accumulate = false)
    {
        GemmHalf.Validate(a, b, c, m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * n + j] : 0.0;
                for (int p = 0; p < k; p++)
                {
                    float bv = HalfConversion.ToSingle(transposeB ? b[j * k + p] : b[p * n + j], format);
                    sum += (double)a[i * k + p] * bv;
                }
                c[i * n + j] = (float)sum;
            }
    }
}
