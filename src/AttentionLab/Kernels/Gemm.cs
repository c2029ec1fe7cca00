namespace AttentionLab.Kernels;

/// <summary>
/// The fast matrix multiply: same contract as <see cref="GemmReference.Multiply"/>.
/// (Placeholder body until the packed Vector512 kernel lands; it is replaced, not kept.)
/// </summary>
public static class Gemm
{
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool transposeA = false, bool transposeB = false, bool accumulate = false)
    {
        Validate(a, b, c, m, n, k);
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * n, n);
            if (!accumulate) row.Clear();
            for (int p = 0; p < k; p++)
            {
                float av = transposeA ? a[p * m + i] : a[i * k + p];
                if (transposeB) for (int j = 0; j < n; j++) row[j] += av * b[j * k + p];
                else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), av, row, row);
            }
        }
    }

    internal static void Validate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "matrix sizes must be non-negative");
        if (a.Length < (long)m * k) throw new ArgumentException($"A has {a.Length} elements, needs {(long)m * k}");
        if (b.Length < (long)k * n) throw new ArgumentException($"B has {b.Length} elements, needs {(long)k * n}");
        if (c.Length < (long)m * n) throw new ArgumentException($"C has {c.Length} elements, needs {(long)m * n}");
    }
}
