using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Performer FAVOR+ (<c>performer:F[,seed:S]</c>): the random features, the forward against its own materialized
/// weights (both the GEMM path and the prefix-sum path), the error against exact attention falling as F grows,
/// finite-difference checks of the hand-written backward, KV-cache decode, determinism, and the masks it refuses.
/// </summary>
[Trait("Category", "Simd")]
public class PerformerTests
{
    private static (float[] Q, float[] K, float[] V, float[] G) Inputs(AttentionShape shape, int seed, double std = 1)
    {
        var random = new Random(seed);
        return (TestData.Normal(random, shape.QueryElements, std), TestData.Normal(random, shape.KeyElements, std),
            TestData.Normal(random, shape.KeyElements), TestData.Normal(random, shape.QueryElements));
    }

    [Fact]
    public void FeaturesAreOrthogonalWithinABlockAndFixedBySeed()
    {
        const int F = 20, D = 8;
        var w = PerformerAttention.OrthogonalGaussian(F, D, seed: 3);
        // rows 0..7, 8..15 and 16..19 are blocks: orthogonal within each (relative 1e-5: float rounding of double math)
        for (int block = 0; block < F; block += D)
            for (int a = block; a < Math.Min(F, block + D); a++)
                for (int b = block; b < a; b++)
                {
                    double dot = 0, na = 0, nb = 0;
                    for (int d = 0; d < D; d++) { dot += w[a * D + d] * w[b * D + d]; na += w[a * D + d] * w[a * D + d]; nb += w[b * D + d] * w[b * D + d]; }
                    Assert.True(Math.Abs(dot) <= 1e-5 * Math.Sqrt(na * nb), $"rows {a}, {b}: cos {dot / Math.Sqrt(na * nb)}");
                }
        Assert.Equal(w, PerformerAttention.OrthogonalGaussian(F, D, seed: 3));
        Assert.NotEqual(w, PerformerAttention.OrthogonalGaussian(F, D, seed: 4));
        // the norms are chi(D): mean √D roughly (over 20 rows, within 40%)
        double meanNorm = Enumerable.Range(0, F).Average(r => Math.Sqrt(Enumerable.Range(0, D).Sum(d => (double)w[r * D + d] * w[r * D + d])));
        Assert.InRange(meanNorm, 0.6 * Math.Sqrt(D), 1.4 * Math.Sqrt(D));
    }

    public static TheoryData<string, int, int> MaskCases() => new()
    {
        { "none", 7, 9 }, { "causal", 9, 9 }, { "causal", 3, 9 }, { "causal", 9, 4 }, { "padding", 6, 8 },
        { "causal+padding+prefix", 8, 8 },
    };

    private static AttentionOptions Options(string kind, int B, int Tk) => kind switch
    {
        "none" => AttentionOptions.Default,
        "causal" => AttentionOptions.Causal,
        "padding" => new AttentionOptions { KeyPaddingMask = Enumerable.Range(0, B * Tk).Select(i => i % 5 != 3).ToArray() },
        _ => new AttentionOptions { IsCausal = true, PrefixLength = 3, KeyPaddingMask = Enumerable.Range(0, B * Tk).Select(i => i % 4 != 1).ToArray() },
    };

    /// <summary>o = A·V with A the kernel's own (approximate) weights: checks the GEMM path (bidirectional) and the
    /// prefix-sum path (causal) against the plain formula a_ij = φ(q_i)·φ(k_j) / Σ_j (1e-5 relative + 1e-6 absolute).</summary>
    [Theory]
    [MemberData(nameof(MaskCases))]
    public void OutputIsItsWeightsTimesV(string kind, int Tq, int Tk)
    {
        var shape = new AttentionShape(2, 2, Tq, Tk, 4);
        var (q, k, v, _) = Inputs(shape, 5);
        var options = Options(kind, 2, Tk);
        var kernel = new PerformerAttention(32, seed: 1);
        var output = new float[shape.QueryElements];
        kernel.Forward(q, k, v, shape, options, output, default);
        var weights = new float[shape.WeightElements];
        kernel.Weights(q, k, v, shape, options, weights);
        var expected = new double[shape.QueryElements];
        for (int bh = 0; bh < 4; bh++)
            for (int i = 0; i < Tq; i++)
                for (int d = 0; d < 4; d++)
                    for (int j = 0; j < Tk; j++)
                    {
                        float a = weights[(bh * Tq + i) * Tk + j];
                        if (a != 0) Assert.True(options.Allows(bh / 2, bh % 2, i, j, shape), $"hidden key {j} has weight {a}");
                        expected[(bh * Tq + i) * 4 + d] += a * (double)v[(bh * Tk + j) * 4 + d];
                    }
        Close.Assert(output, expected, 1e-5, 1e-6, "performer output");
        TestData.AllFinite(output, "output");
    }

    /// <summary>
    /// The approximation improves with more features: mean absolute output error against exact attention, averaged
    /// over 4 seeds, for F = 16, 64, 256, 1024. FAVOR+'s error falls like 1/√F, so each 4× step should roughly halve
    /// it; the test asks for a fall at every step and at least 3× from 16 to 1024 (theory: 8×), so it is not fragile.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ErrorFallsAsFeaturesGrow(bool causal)
    {
        var shape = new AttentionShape(1, 2, 24, 24, 8);
        var (q, k, v, _) = Inputs(shape, 11, std: 0.8);
        var options = causal ? AttentionOptions.Causal : AttentionOptions.Default;
        var errors = new[] { 16, 64, 256, 1024 }
            .Select(f => Enumerable.Range(0, 4).Average(seed => ApproximationError.Measure(new PerformerAttention(f, seed), q, k, v, shape, options).MeanAbs))
            .ToArray();
        for (int i = 1; i < errors.Length; i++)
            Assert.True(errors[i] < errors[i - 1], $"error did not fall: {string.Join(", ", errors.Select(e => e.ToString("G3")))}");
        Assert.True(errors[^1] * 3 < errors[0], $"error fell too little: {string.Join(", ", errors.Select(e => e.ToString("G3")))}");
    }

    [Fact]
    public void ErrorReportAgainstExact()
    {
        var shape = new AttentionShape(1, 1, 6, 6, 4);
        var (q, k, v, _) = Inputs(shape, 2);
        var e = ApproximationError.Measure(new PerformerAttention(64), q, k, v, shape, AttentionOptions.Default);
        Assert.Equal("flash", e.Exact);
        Assert.InRange(e.MeanAbs, 1e-6, e.MaxAbs);
        var exact = ApproximationError.Measure(AttentionKernels.Fast, q, k, v, shape, AttentionOptions.Default);
        Assert.True(exact.MaxAbs <= 1e-5, $"fast vs flash differ by {exact.MaxAbs}");
        Assert.Throws<ArgumentException>(() => ApproximationError.Measure(AttentionKernels.Fast, q, k, v, shape, AttentionOptions.Default, new PerformerAttention(4)));
    }

    /// <summary>The three figures by hand on four numbers: errors 0.5, 0, 1, 0.5 against exact (1, 0, 2, 0).</summary>
    [Fact]
    public void CompareIsTheDefinitionOnHandMadeNumbers()
    {
        float[] exact = [1, 0, 2, 0], approximate = [1.5f, 0, 1, 0.5f];
        var e = ApproximationError.Compare(approximate, exact, "naive");
        Assert.Equal(1.0, e.MaxAbs);
        Assert.Equal(2.0 / 4, e.MeanAbs);
        Assert.Equal(Math.Sqrt(1.5 / 5), e.RelativeRms, 12);     // √(0.25 + 1 + 0.25) / √(1 + 4)
        Assert.Equal("naive", e.Exact);
        Assert.Equal(2.0 / 3, ApproximationError.Compare(approximate, exact, "naive", meanOver: 3).MeanAbs);
        Assert.Throws<ArgumentException>(() => ApproximationError.Compare(approximate, exact.AsSpan(1), "naive"));
    }

    [Theory]
    [MemberData(nameof(MaskCases))]
    public void BackwardMatchesFiniteDifferences(string kind, int Tq, int Tk)
    {
        var shape = new AttentionShape(2, 1, Tq, Tk, 3);
        var (q, k, v, g) = Inputs(shape, 13, std: 0.7);
        var options = Options(kind, 2, Tk) with { Scale = 0.8f };
        var kernel = new PerformerAttention(8, seed: 2);
        var r = TestData.Run(kernel, q, k, v, g, shape, options);
        var output = new float[shape.QueryElements];
        double Loss() { kernel.Forward(q, k, v, shape, options, output, default); return TestData.Dot(output, g); }
        TestData.GradCheck(q, r.Dq, Loss, "dq");
        TestData.GradCheck(k, r.Dk, Loss, "dk");
        TestData.GradCheck(v, r.Dv, Loss, "dv");
    }

    [Fact]
    public void DecodingOneQueryEqualsTheLastRowOfTheFullCall()
    {
        // causal KV-cache decode: query T−1 alone against all T keys (bottom-right aligned), 1e-5 relative + 1e-6 absolute
        var full = new AttentionShape(1, 2, 10, 10, 4);
        var (q, k, v, _) = Inputs(full, 7);
        var kernel = AttentionKernels.Parse("performer:16,seed:5");
        var o = new float[full.QueryElements];
        kernel.Forward(q, k, v, full, AttentionOptions.Causal, o, default);
        var one = new AttentionShape(1, 2, 1, 10, 4);
        var lastQ = new float[one.QueryElements];
        for (int h = 0; h < 2; h++) q.AsSpan((h * 10 + 9) * 4, 4).CopyTo(lastQ.AsSpan(h * 4, 4));
        var decoded = new float[one.QueryElements];
        kernel.Forward(lastQ, k, v, one, AttentionOptions.Causal, decoded, default);
        for (int h = 0; h < 2; h++)
            Close.Assert(decoded.AsSpan(h * 4, 4), o.AsSpan((h * 10 + 9) * 4, 4), 1e-5, 1e-6, $"head {h}");
    }

    [Fact]
    public void SameSeedSameResultsAndNamesRoundTrip()
    {
        var shape = new AttentionShape(1, 1, 5, 5, 4);
        var (q, k, v, _) = Inputs(shape, 3);
        float[] Run(string name) { var o = new float[shape.QueryElements]; AttentionKernels.Parse(name).Forward(q, k, v, shape, AttentionOptions.Default, o, default); return o; }
        Assert.Equal(Run("performer:16,seed:9"), Run("performer:16,seed:9"));
        Assert.NotEqual(Run("performer:16,seed:9"), Run("performer:16,seed:10"));
        Assert.Equal("performer:64", AttentionKernels.Parse("performer:64").Name);
        Assert.Equal("performer:64,seed:7", AttentionKernels.Parse("performer:64,seed:7").Name);
        Assert.False(AttentionKernels.Parse("performer:64").IsExact);
        Assert.Equal(0, AttentionKernels.Parse("performer:64").SavedLength(shape));
    }

    [Theory]
    [InlineData("performer", "needs the number of random features")]
    [InlineData("performer:0", "from 1")]
    [InlineData("performer:x", "integer")]
    [InlineData("performer:8,seeds:1", "no option 'seeds'")]
    public void BadSpecsSayWhat(string spec, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => AttentionKernels.Parse(spec)).Message);

    [Fact]
    public void RefusesMasksItCannotApply()
    {
        var shape = new AttentionShape(1, 1, 3, 3, 2);
        var kernel = AttentionKernels.Parse("performer:8");
        void Run(AttentionOptions o) => kernel.Forward(new float[6], new float[6], new float[6], shape, o, new float[6], default);
        Assert.Contains("sliding window", Assert.Throws<ArgumentException>(() => Run(new() { Window = new SlidingWindow(1) })).Message);
        Assert.Contains("boolean mask", Assert.Throws<ArgumentException>(() => Run(new() { BooleanMask = AttentionMask.FromBoolean(new bool[9], 3, 3) })).Message);
        Assert.Contains("additive mask", Assert.Throws<ArgumentException>(() => Run(new() { AdditiveMask = AttentionMask.FromAdditive(new float[9], 3, 3) })).Message);
        Assert.Contains("positive scale", Assert.Throws<ArgumentException>(() => Run(new() { Scale = -1 })).Message);
    }
}
