namespace AttentionLab.Kernels;

/// <summary>
/// The plain matrix multiply every fast kernel is tested against. Row-major, contiguous:
/// <c>C[m×n] = op(A)[m×k] · op(B)[k×n]</c> (+ C when accumulate is set), where
/// op(A) = A (stored m×k) or Aᵀ (A stored k×m), op(B) = B (stored k×n) or Bᵀ (B stored n×k).
/// Training needs three forms: forward x·Wᵀ (NT), input gradient dY·W (NN), weight gradient dYᵀ·X (TN).
/// Accumulates in double so it is a trustworthy yardstick.
/// </summary>
public static class GemmReference
{
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool transposeA = false, bool transposeB = false, bool accumulate = false)
    {
        Gemm.Validate(a, b, c, m, n, k);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * n + j] : 0.0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * m + i] : a[i * k + p];
                    float bv = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += (double)av * bv;
                }
                c[i * n + j] = (float)sum;
            }
        }
    }
}
