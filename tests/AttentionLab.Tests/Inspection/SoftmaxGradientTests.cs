using AttentionLab.Inspection;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// <see cref="SoftmaxGradient"/>: the Jacobian diag(p) − ppᵀ by hand, against the library's
/// <see cref="AttentionLab.Ops.Softmax.Backward"/> (float32: 1e-6) and against central finite differences
/// (double, h = 1e-5: truncation ~1e-10, so 1e-8), and the claims of seed 000 question 2 / seed 004 question 30.
/// </summary>
public class SoftmaxGradientTests
{
    [Fact]
    public void JacobianByHand()
    {
        // p = [½, ½]: diagonal ½·(1 − ½) = ¼, off-diagonal −½·½ = −¼
        AttentionTraceTests.AssertMatrix(new double[,] { { 0.25, -0.25 }, { -0.25, 0.25 } }, SoftmaxGradient.Jacobian([0.5, 0.5]), 1e-15, "J");
        // one-hot p: every entry 0 — no gradient at all
        Assert.All(SoftmaxGradient.Jacobian([1, 0, 0]).Cast<double>(), x => Assert.Equal(0, x));
    }

    [Fact]
    public void JacobianTimesUpstreamGradientIsSoftmaxBackward()
    {
        double[] s = [0.3, -1.2, 2.0, 0.7];
        var p = SoftmaxGradient.Softmax(s);
        var j = SoftmaxGradient.Jacobian(p);
        double[] dy = [0.5, -1, 0.25, 2];
        var dx = new float[4];
        AttentionLab.Ops.Softmax.Backward(p.Select(x => (float)x).ToArray(), dy.Select(x => (float)x).ToArray(), dx, 1, 4);
        // dL/ds_j = Σ_i dy_i ∂p_i/∂s_j = (Jᵀ·dy)_j; J is symmetric
        var expected = Enumerable.Range(0, 4).Select(c => Enumerable.Range(0, 4).Sum(r => dy[r] * j[r, c])).ToArray();
        Close.Assert(dx, expected, 1e-6, 1e-6, "Jᵀ·dy vs Softmax.Backward");
    }

    [Fact]
    public void JacobianMatchesFiniteDifferences()
    {
        double[] s = [1.0, 0.2, -0.5];
        var j = SoftmaxGradient.Jacobian(SoftmaxGradient.Softmax(s));
        const double h = 1e-5;
        for (int c = 0; c < 3; c++)
        {
            var plus = (double[])s.Clone(); plus[c] += h;
            var minus = (double[])s.Clone(); minus[c] -= h;
            var pp = SoftmaxGradient.Softmax(plus);
            var pm = SoftmaxGradient.Softmax(minus);
            for (int r = 0; r < 3; r++) Assert.InRange((pp[r] - pm[r]) / (2 * h) - j[r, c], -1e-8, 1e-8);
        }
    }

    [Fact]
    public void SharperScoresShrinkTheGradient()
    {
        // row 3 of the exercises' scaled scores: [1/√2, 1/√2, 2/√2], a unique maximum
        double r = 1 / Math.Sqrt(2);
        var rows = SoftmaxGradient.Sharpening([r, r, 2 * r], SoftmaxGradient.Doublings(7));
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], rows.Select(x => x.Multiplier));
        for (int i = 1; i < rows.Count; i++) Assert.True(rows[i].MaxJacobianEntry < rows[i - 1].MaxJacobianEntry, $"m = {rows[i].Multiplier}");
        Assert.True(rows[^1].MaxJacobianEntry < 1e-15);                                 // e^(−64/√2·…) ≈ 0
        Assert.True(rows[^1].MaxWeight > 1 - 1e-15);
        Assert.All(rows, x => Assert.InRange(x.MaxJacobianEntry, 0, 0.25));            // never above ¼
    }

    [Fact]
    public void WithoutScalingTheGradientVanishesAsDGrows_WithScalingItStays()
    {
        var study = SoftmaxGradient.Dimensions([4, 64, 1024], keys: 8, samples: 100, seed: 1);
        foreach (var d in study)
        {
            // q·k of N(0,1) vectors has standard deviation √d; divided by √d, 1. 100 rows × 8 keys: ±20% is wide.
            Assert.InRange(d.Unscaled.ScoreStd, 0.8 * Math.Sqrt(d.Dimension), 1.2 * Math.Sqrt(d.Dimension));
            Assert.InRange(d.Scaled.ScoreStd, 0.8, 1.2);
        }
        Assert.True(study[2].Unscaled.MeanMaxJacobianEntry < study[0].Unscaled.MeanMaxJacobianEntry / 3, "unscaled shrinks with d");
        Assert.True(study[2].Unscaled.MeanMaxWeight > 0.9, "unscaled softmax saturates at d = 1024");
        Assert.InRange(study[2].Scaled.MeanMaxJacobianEntry / study[0].Scaled.MeanMaxJacobianEntry, 0.8, 1.25);
    }
}

/// <summary>
/// <see cref="MaskedSoftmaxTrace"/>: where NaN and uniform rows come from (seed 001), in float32. The visible rows
/// must equal the double-precision <see cref="AttentionTrace"/> weights within 1e-6 (float32 rounding of values ≤ 1).
/// </summary>
public class MaskedSoftmaxTraceTests
{
    private static readonly bool[,] FirstRowHidden = { { false, false, false }, { true, true, false }, { true, true, true } };

    private static AttentionTrace Trace() => AttentionTrace.Compute(AttentionTraceTests.Q, AttentionTraceTests.K, AttentionTraceTests.V, mask: FirstRowHidden);

    [Theory]
    [InlineData(float.NegativeInfinity, "naive", SoftmaxRowProblem.ZeroOverZero)]
    [InlineData(float.NegativeInfinity, "safe", SoftmaxRowProblem.InfMinusInf)]
    [InlineData(-1e9f, "naive", SoftmaxRowProblem.ZeroOverZero)]
    [InlineData(-1e9f, "safe", SoftmaxRowProblem.UniformOverHidden)]
    [InlineData(float.NegativeInfinity, "library", SoftmaxRowProblem.GuardedZero)]
    public void FullyMaskedRow(float fill, string softmax, SoftmaxRowProblem expected)
    {
        var t = Trace();
        var r = MaskedSoftmaxTrace.Run(t.Scaled, t.Visible, t.V, fill, softmax);
        Assert.Equal([expected, SoftmaxRowProblem.None, SoftmaxRowProblem.None], r.Problems);
        bool nan = expected is SoftmaxRowProblem.ZeroOverZero or SoftmaxRowProblem.InfMinusInf;
        Assert.Equal(nan, r.RowHasNaN(0));
        Assert.Equal(nan, float.IsNaN(r.Output[0, 0]));                                // NaN spreads into the output
        if (expected == SoftmaxRowProblem.UniformOverHidden)
            for (int j = 0; j < 3; j++) Assert.Equal(1f / 3, r.Weights[0, j], 1e-6f);   // attends to keys it must not see
        if (expected == SoftmaxRowProblem.GuardedZero)
            for (int j = 0; j < 3; j++) Assert.Equal(0f, r.Weights[0, j]);
        for (int i = 1; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(t.Weights[i, j], r.Weights[i, j], 1e-6);
    }

    [Fact]
    public void NaiveSoftmaxOverflowsOnHugeScores_SafeDoesNot()
    {
        // score 10·10 + 10·10 = 200 > 88.72: exp overflows float32
        var t = AttentionTrace.Compute(new double[,] { { 10, 10 } }, new double[,] { { 10, 10 }, { 0, 0 } }, new double[,] { { 1 }, { 2 } }, scale: 1);
        var naive = MaskedSoftmaxTrace.Run(t.Scaled, t.Visible, t.V, float.NegativeInfinity, "naive");
        Assert.Equal(SoftmaxRowProblem.ExpOverflow, naive.Problems[0]);
        Assert.True(float.IsNaN(naive.Weights[0, 0]));
        var safe = MaskedSoftmaxTrace.Run(t.Scaled, t.Visible, t.V, float.NegativeInfinity, "safe");
        Assert.Equal(SoftmaxRowProblem.None, safe.Problems[0]);
        Assert.Equal([1f, 0f], new[] { safe.Weights[0, 0], safe.Weights[0, 1] });
    }

    [Fact]
    public void CompareCoversTheFiveCombinations()
    {
        var t = Trace();
        var all = MaskedSoftmaxTrace.Compare(t.Scaled, t.Visible, t.V);
        Assert.Equal(["naive", "safe", "naive", "safe", "library"], all.Select(v => v.Softmax));
        Assert.Equal(3, all.Count(v => v.RowHasNaN(0)));
    }
}
