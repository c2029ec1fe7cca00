using AttentionLab.Kernels;

namespace AttentionLab.Tests.Kernels;

/// <summary>
/// Q8_0 weights (GGUF's 8-bit blocks): the quantization rule, and <see cref="GemmQ8"/> against the plain
/// <see cref="GemmQ8Reference"/> (each weight q·d, sums in double) in every form (B and Bᵀ, few rows and many, one
/// thread and all, accumulating or not) at sizes that cross the tile, the chunk split and the panel. Each weight q·d
/// is exact in float32, so the bound is float32 summation's: (k + 3)·u·Σ|a·w| (+ |C| when accumulating).
/// </summary>
[Trait("Category", "Simd")]
public class GemmQ8Tests
{
    [Fact]
    public void QuantizesAsGgmlsReferenceDoes()
    {
        // one block: max |w| = 2.54 → d = 0.02 (as F16), q = round(w / d) halves away from zero; one all-zero block
        var values = new float[64];
        values[0] = 2.54f; values[1] = -2.54f; values[2] = 0.01f; values[3] = -0.01f; values[4] = 1.0f; values[5] = 0.03f;
        var q = Q8Matrix.Quantize(values, 1, 64);
        float d = 2.54f / 127f;
        float d16 = HalfConversion.ToSingle(HalfConversion.FromSingle(d, WeightFormat.F16), WeightFormat.F16);
        Assert.Equal(d16, q.Scales[0]);
        Assert.Equal(0f, q.Scales[1]);
        float id = 1f / d;
        Assert.Equal(127, q.Quants[0]);
        Assert.Equal(-127, q.Quants[1]);
        Assert.Equal((sbyte)MathF.Round(0.01f * id, MidpointRounding.AwayFromZero), q.Quants[2]);
        Assert.Equal(-q.Quants[2], q.Quants[3]);                                            // symmetric: away from zero both ways
        Assert.Equal((sbyte)MathF.Round(1.0f * id, MidpointRounding.AwayFromZero), q.Quants[4]);
        Assert.All(q.Quants.AsSpan(32).ToArray(), v => Assert.Equal(0, v));
        Assert.Equal(q.Quants[4] * d16, q.ToSingle()[4]);
        Assert.Equal(36 * 2, q.Bytes);

        var row = new float[64];
        q.Row(0, row);
        Assert.Equal(q.ToSingle(), row);
        Assert.Throws<ArgumentException>(() => Q8Matrix.Quantize(new float[40], 1, 40));    // rows must be whole blocks
        Assert.Throws<ArgumentException>(() => Q8Matrix.Quantize([float.NaN, .. new float[31]], 1, 32));
    }

    [Fact]
    public void HalfwayQuantsRoundAwayFromZero()
    {
        // w·(1/d) = ±0.5 · odd exactly: d = 127/127 = 1 (max |w| = 127), so w = 2.5 → 3 and −2.5 → −3 (ties to even would give 2)
        var values = new float[32];
        values[0] = 127f; values[1] = 2.5f; values[2] = -2.5f; values[3] = 0.5f;
        var q = Q8Matrix.Quantize(values, 1, 32);
        Assert.Equal(1f, q.Scales[0]);
        Assert.Equal(new sbyte[] { 127, 3, -3, 1 }, q.Quants[..4]);
    }

    [Fact]
    public void FewRowsMatchTheReferenceInBothForms()
    {
        var random = new Random(11);
        foreach (bool transpose in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
                for (int m = 1; m <= 8; m++)
                {
                    Check(random, m, 96, 37, transpose, accumulate, maxThreads: 1);         // k a ragged 37 (B) / n 37 (Bᵀ)
                    Check(random, m, 64, 64, transpose, accumulate, maxThreads: 1);
                }
        foreach (bool transpose in new[] { false, true })
        {
            Check(random, 1, 3 * 256 + 32, 1400, transpose, accumulate: true, maxThreads: 0);  // threaded (B ≥ 1 MiB), a ragged last chunk
            Check(random, 2, 512 + 96, 31, transpose, accumulate: false, maxThreads: 1);       // two tiles, the second partial
        }
    }

    [Fact]
    public void ManyRowsMatchTheReferenceAcrossPanels()
    {
        var random = new Random(12);
        foreach (bool transpose in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                Check(random, 9, 64, 40, transpose, accumulate, maxThreads: 1);
                Check(random, 20, 96, 64, transpose, accumulate, maxThreads: 0, panelFloats: 64 * 33);   // panels of 33 columns
            }
    }

    [Fact]
    public void RejectsOperandsThatDoNotFit()
    {
        var b = Q8Matrix.Quantize(new float[64], 2, 32);
        Assert.Throws<ArgumentException>(() => GemmQ8.Multiply(new float[1], b, new float[32], 1));          // A needs m·k = 2
        Assert.Throws<ArgumentException>(() => GemmQ8.Multiply(new float[2], b, new float[31], 1));          // C needs m·n = 32
        var shared = new float[64];
        Assert.Throws<ArgumentException>(() => GemmQ8.Multiply(shared, b, shared.AsSpan(1), 1));             // C overlaps A
    }

    /// <summary>op(B) is (k, n): B stored (k, n) with blocks along n, or Bᵀ stored (n, k) with blocks along k; the
    /// stored row length is rounded up to whole blocks.</summary>
    private static void Check(Random random, int m, int storedCols, int storedRows, bool transpose, bool accumulate, int maxThreads,
        int panelFloats = GemmHalf.PanelFloats)
    {
        int cols = (storedCols + 31) / 32 * 32;
        var weights = new float[storedRows * cols];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(random.NextDouble() * 2 - 1) * (i % 7 == 0 ? 4 : 1);
        var b = Q8Matrix.Quantize(weights, storedRows, cols);
        int k = transpose ? cols : storedRows, n = transpose ? storedRows : cols;
        var a = new float[m * k];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(random.NextDouble() * 2 - 1);
        var c0 = new float[m * n];
        for (int i = 0; i < c0.Length; i++) c0[i] = (float)(random.NextDouble() * 2 - 1);
        var actual = (float[])c0.Clone();
        var expected = (float[])c0.Clone();
        GemmQ8.Multiply(a, b, actual, m, transpose, accumulate, maxThreads, panelFloats);
        GemmQ8Reference.Multiply(a, b, expected, m, transpose, accumulate);
        var w = b.ToSingle();
        double u = Math.Pow(2, -24);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double bound = accumulate ? Math.Abs(c0[i * n + j]) : 0;
                for (int p = 0; p < k; p++) bound += Math.Abs(a[i * k + p] * w[transpose ? j * k + p : p * n + j]);
                double tolerance = (k + 3) * u * bound + 1e-30;
                double error = Math.Abs(actual[i * n + j] - expected[i * n + j]);
                if (!(error <= tolerance))
                    Assert.Fail($"{(transpose ? "Bᵀ" : "B")} m={m} n={n} k={k} acc={accumulate}: C[{i},{j}] = {actual[i * n + j]}, reference {expected[i * n + j]}, |error| {error:E2} > {tolerance:E2}");
            }
    }
}
