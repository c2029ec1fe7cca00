namespace AttentionLab.Kernels;

/// <summary>
/// The many-row product with narrow weights (a prompt, an inspected text): compute-bound, so B is widened once into a
/// float32 panel (at most <see cref="GemmHalf.PanelFloats"/> floats, reused per thread) and the packed float32
/// <see cref="Gemm"/> runs on it; the widening costs k·n against the product's m·n·k. Shared by the 16-bit
/// (<see cref="GemmHalf"/>) and the Q8_0 (<see cref="GemmQ8"/>) products, which differ only in how they widen.
/// </summary>
internal static unsafe class WidenedProduct
{
    /// <summary>Writes columns j0..j0+width of op(B) as float32 into panel (see <see cref="Multiply"/>).</summary>
    public delegate void WidenPanel(float[] panel, int j0, int width);

    [ThreadStatic] private static float[]? t_panel;
    [ThreadStatic] private static float[]? t_output;

    /// <summary>C (+)= A·op(B) with op(B) widened panel by panel into float32 by <paramref name="widen"/> (panel, j0,
    /// width: columns j0..j0+width of op(B), laid out as B is stored: width rows of k when transposed, else k rows of
    /// width) and multiplied with the packed GEMM. A panel is a range of C's columns; when it is all of them the GEMM
    /// writes C directly, else into a (m, panel) buffer added into C.</summary>
    public static void Multiply(ReadOnlySpan<float> a, Span<float> c, int m, int n, int k, bool transposeB, bool accumulate,
        int threads, int panelFloats, WidenPanel widen)
    {
        int panel = Math.Max(1, Math.Min(n, panelFloats / k));
        var widened = t_panel ??= new float[GemmHalf.PanelFloats];
        if (widened.Length < (long)panel * k) widened = t_panel = new float[(long)panel * k];   // k alone beyond the budget
        for (int j0 = 0; j0 < n; j0 += panel)
        {
            int width = Math.Min(panel, n - j0);
            var w = widened.AsSpan(0, width * k);
            widen(widened, j0, width);
            if (width == n)
            {
                Gemm.Multiply(a, w, c, m, n, k, transposeB: transposeB, accumulate: accumulate, maxThreads: threads);
                return;
            }
            var output = t_output is { } o && o.Length >= m * width ? o : t_output = new float[m * width];
            var part = output.AsSpan(0, m * width);                                                 // (m, width)
            Gemm.Multiply(a, w, part, m, width, k, transposeB: transposeB, maxThreads: threads);
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * n + j0, width);
                if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(row, part.Slice(i * width, width), row);
                else part.Slice(i * width, width).CopyTo(row);
            }
        }
    }

}
