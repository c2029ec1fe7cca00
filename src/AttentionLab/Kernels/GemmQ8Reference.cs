namespace AttentionLab.Kernels;

/// <summary>
/// The plain product with Q8_0 weights that <see cref="GemmQ8"/> is tested against: each weight q·d (its block's
/// scale), the products summed in double. Row-major: <c>C[m×n] = A[m×k] · op(B)</c>, op(B) = B (stored k×n) or Bᵀ
/// (stored n×k), + C when accumulating.
/// </summary>
public static class GemmQ8Reference
{
    public static void Multiply(ReadOnlySpan<float> a, Q8Matrix b, Span<float> c, int m, bool transposeB = false, bool accumulate = false)
    {
        int k = transposeB ? b.Cols : b.Rows, n = transposeB ? b.Rows : b.Cols;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * n + j] : 0.0;
                for (int p = 0; p < k; p++)
                {
                    long at = transposeB ? (long)j * k + p : (long)p * n + j;
                    sum += (double)a[i * k + p] * (b.Quants[at] * b.Scales[at / Q8Matrix.BlockSize]);
                }
                c[i * n + j] = (float)sum;
            }
    }
}
