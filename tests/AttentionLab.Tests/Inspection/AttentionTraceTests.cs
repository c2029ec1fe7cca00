using AttentionLab.Inspection;

namespace AttentionLab.Tests.Inspection;

/// <summary>
/// <see cref="AttentionTrace"/> against the hand answers of seed 004 (Parts 2 and 3) and against PyTorch
/// (fixtures/attention_ops.json). The trace runs in double; the exercises' answers are checked to
/// <see cref="Exact"/> = 1e-12. The sdpa fixtures are float64 end to end (make_fixtures.py draws q, k, v in
/// float64 and PyTorch computes in float64), so the two sides differ only by double rounding in a different
/// summation order (measured: within 1e-15): <see cref="PyTorchFloat64"/> allows 1e-14, relative for values
/// above 1 and absolute below.
/// </summary>
public class AttentionTraceTests
{
    // The exercises' matrices: 3 tokens, head_dim 2.
    internal static readonly double[,] Q = { { 1, 0 }, { 0, 1 }, { 1, 1 } };
    internal static readonly double[,] K = { { 1, 0 }, { 0, 1 }, { 1, 1 } };
    internal static readonly double[,] V = { { 1, 2 }, { 3, 4 }, { 5, 6 } };

    private const double Exact = 1e-12;
    private const double PyTorchFloat64 = 1e-14;

    [Fact]
    public void Part2_RawScores_Q6()
    {
        var t = AttentionTrace.Compute(Q, K, V);
        AssertMatrix(new double[,] { { 1, 0, 1 }, { 0, 1, 1 }, { 1, 1, 2 } }, t.Scores, Exact, "scores");
    }

    [Fact]
    public void Part2_ScaleIsOneOverSqrtTwo_Q7()
    {
        var t = AttentionTrace.Compute(Q, K, V);
        Assert.True(t.DefaultScale);
        Assert.Equal(1 / Math.Sqrt(2), t.Scale, Exact);
        double r = 1 / Math.Sqrt(2);
        AssertMatrix(new double[,] { { r, 0, r }, { 0, r, r }, { r, r, 2 * r } }, t.Scaled, Exact, "scaled");
    }

    [Fact]
    public void Part2_Row1Softmax_Q8_AndContextVector_Q9()
    {
        var t = AttentionTrace.Compute(Q, K, V);
        // softmax([0.7071, 0, 0.7071]) = [e^0.7071, 1, e^0.7071] / (2·e^0.7071 + 1)
        double e = Math.Exp(1 / Math.Sqrt(2)), z = 2 * e + 1;
        Assert.Equal(e / z, t.Weights[0, 0], Exact);
        Assert.Equal(1 / z, t.Weights[0, 1], Exact);
        Assert.Equal(e / z, t.Weights[0, 2], Exact);
        Assert.Equal(0.4011, t.Weights[0, 0], 4);
        Assert.Equal(0.1978, t.Weights[0, 1], 4);
        // Token 1's context vector: symmetric weights on v1 and v3 average to v2 = [3, 4].
        Assert.Equal(3.0, t.Output[0, 0], 1e-12);
        Assert.Equal(4.0, t.Output[0, 1], 1e-12);
        for (int i = 0; i < 3; i++)
            Assert.Equal(1.0, t.Weights[i, 0] + t.Weights[i, 1] + t.Weights[i, 2], 1e-15);
    }

    [Fact]
    public void Part3_CausalMask_Q10_Q11()
    {
        var t = AttentionTrace.Compute(Q, K, V, isCausal: true);
        var tril = new[,] { { true, false, false }, { true, true, false }, { true, true, true } };
        Assert.Equal(tril, t.Visible);
        double r = 1 / Math.Sqrt(2), ninf = double.NegativeInfinity;
        AssertMatrix(new[,] { { r, ninf, ninf }, { 0, r, ninf }, { r, r, 2 * r } }, t.Masked, Exact, "masked");
    }

    [Fact]
    public void Part3_Row1AttendsOnlyToItself_Q12_Row2GivesToken3Nothing_Q13()
    {
        var t = AttentionTrace.Compute(Q, K, V, isCausal: true);
        Assert.Equal([1.0, 0.0, 0.0], Row(t.Weights, 0));
        Assert.Equal(0.0, t.Weights[1, 2]); // exactly 0%: exp(-inf) = 0
        double e = Math.Exp(1 / Math.Sqrt(2));
        Assert.Equal(1 / (1 + e), t.Weights[1, 0], Exact);
        Assert.Equal(e / (1 + e), t.Weights[1, 1], Exact);
        Assert.Equal(0.3302, t.Weights[1, 0], 4);
        Assert.Equal(0.6698, t.Weights[1, 1], 4);
        Assert.Equal([1.0, 2.0], Row(t.Output, 0)); // token 1 copies v1
        Assert.Equal(0.0, t.Entropy[0]);
    }

    [Fact]
    public void IntermediateSteps_AreTheTextbookSoftmax()
    {
        var t = AttentionTrace.Compute(Q, K, V, isCausal: true);
        for (int i = 0; i < 3; i++)
        {
            double max = Row(t.Masked, i).Max();
            Assert.Equal(max, t.RowMax[i]);
            double sum = 0;
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(Math.Exp(t.Masked[i, j] - max), t.Exp[i, j], Exact);
                sum += t.Exp[i, j];
            }
            Assert.Equal(sum, t.RowSum[i], Exact);
            for (int j = 0; j < 3; j++) Assert.Equal(t.Exp[i, j] / sum, t.Weights[i, j], Exact);
        }
    }

    [Fact]
    public void Entropy_IsLnTk_ForUniformAttention()
    {
        // Identical keys give identical scores, so attention is uniform over all 4 keys.
        var q = new double[,] { { 1, 2 } };
        var k = new double[,] { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } };
        var v = new double[,] { { 1 }, { 2 }, { 3 }, { 4 } };
        var t = AttentionTrace.Compute(q, k, v);
        Assert.Equal(Math.Log(4), t.Entropy[0], Exact);
        Assert.Equal(2.5, t.Output[0, 0], Exact);
    }

    [Fact]
    public void ExplicitScale_And_NoScale()
    {
        var given = AttentionTrace.Compute(Q, K, V, scale: 0.5);
        Assert.False(given.DefaultScale);
        Assert.Equal(1.0, given.Scaled[2, 2], Exact); // score 2 × 0.5
        var raw = AttentionTrace.Compute(Q, K, V, scale: 1);
        AssertMatrix(raw.Scores, raw.Scaled, 0, "scale 1 keeps raw scores");
    }

    [Fact]
    public void FullyMaskedRow_GivesZeroWeightsAndZeroOutput_NeverNaN()
    {
        var mask = new[,] { { false, false, false }, { true, true, true }, { true, false, true } };
        var t = AttentionTrace.Compute(Q, K, V, mask: mask);
        Assert.True(t.FullyMasked(0));
        Assert.Equal(double.NegativeInfinity, t.RowMax[0]);
        Assert.Equal(0.0, t.RowSum[0]);
        Assert.Equal([0.0, 0.0, 0.0], Row(t.Weights, 0));
        Assert.Equal([0.0, 0.0], Row(t.Output, 0));
        Assert.Equal(0.0, t.Entropy[0]);
        Assert.False(t.FullyMasked(1));
        Assert.Equal(0.0, t.Weights[2, 1]);
        Assert.Equal(1.0, t.Weights[2, 0] + t.Weights[2, 2], 1e-15);
    }

    [Fact]
    public void CausalAndMask_Combine_BothMustAllow()
    {
        var mask = new[,] { { true, true, true }, { false, true, true }, { true, true, false } };
        var t = AttentionTrace.Compute(Q, K, V, isCausal: true, mask: mask);
        var expected = new[,] { { true, false, false }, { false, true, false }, { true, true, false } };
        Assert.Equal(expected, t.Visible);
        Assert.Equal([1, 1, 2], t.VisibleCount);
    }

    [Fact]
    public void Causal_WithFewerQueriesThanKeys_IsAlignedBottomRight()
    {
        // 2 queries, 4 keys: offset Tk − Tq = 2, so query 0 sees keys 0..2 and the last query sees all 4.
        var q = new double[,] { { 1 }, { 1 } };
        var k = new double[,] { { 1 }, { 1 }, { 1 }, { 1 } };
        var v = new double[,] { { 1 }, { 2 }, { 3 }, { 4 } };
        var t = AttentionTrace.Compute(q, k, v, isCausal: true);
        Assert.Equal(2, t.CausalOffset);
        Assert.Equal(new[,] { { true, true, true, false }, { true, true, true, true } }, t.Visible);
        Assert.Equal(2.0, t.Output[0, 0], Exact);
        Assert.Equal(2.5, t.Output[1, 0], Exact);
    }

    [Fact]
    public void Causal_WithMoreQueriesThanKeys_LeavesEarlyRowsFullyMasked()
    {
        // 3 queries, 1 key: offset −2, so query i sees key 0 only when 0 ≤ i − 2.
        var q = new double[,] { { 1 }, { 1 }, { 1 } };
        var t = AttentionTrace.Compute(q, new double[,] { { 1 } }, new double[,] { { 7 } }, isCausal: true);
        Assert.True(t.FullyMasked(0));
        Assert.True(t.FullyMasked(1));
        Assert.False(t.FullyMasked(2));
        Assert.Equal([0.0, 0.0, 7.0], Row(t.Output, 0..3, 0));
    }

    [Fact]
    public void LargeScores_DoNotOverflow_BecauseTheRowMaxIsSubtracted()
    {
        var q = new double[,] { { 30 } };
        var k = new double[,] { { 30 }, { 29 } }; // scores 900 and 870: exp(900) overflows double
        var t = AttentionTrace.Compute(q, k, new double[,] { { 1 }, { 0 } }, scale: 1);
        Assert.Equal(1 / (1 + Math.Exp(-30)), t.Weights[0, 0], Exact);
        Assert.True(double.IsFinite(t.Output[0, 0]));
    }

    [Theory]
    [InlineData("self")]
    [InlineData("causal")]
    [InlineData("cross")]
    [InlineData("padding")]
    public void MatchesPyTorch_ScaledDotProductAttention(string name)
    {
        var fixture = Fixtures.Get(Fixtures.Load("attention_ops.json"), "sdpa." + name);
        int B = fixture.GetProperty("B").GetInt32(), H = fixture.GetProperty("H").GetInt32();
        int Tq = fixture.GetProperty("Tq").GetInt32(), Tk = fixture.GetProperty("Tk").GetInt32(), D = fixture.GetProperty("D").GetInt32();
        bool causal = fixture.GetProperty("causal").GetBoolean();
        double[] q = Fixtures.Doubles(fixture.GetProperty("q")), k = Fixtures.Doubles(fixture.GetProperty("k")), v = Fixtures.Doubles(fixture.GetProperty("v"));
        double[] weights = Fixtures.Doubles(fixture.GetProperty("weights")), o = Fixtures.Doubles(fixture.GetProperty("o"));
        double[]? padding = fixture.TryGetProperty("key_padding_mask", out var p) ? Fixtures.Doubles(p) : null;

        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
            {
                int bh = b * H + h;
                bool[,]? mask = null;
                if (padding is not null)
                {
                    mask = new bool[Tq, Tk];
                    for (int i = 0; i < Tq; i++)
                        for (int j = 0; j < Tk; j++) mask[i, j] = padding[b * Tk + j] != 0;
                }
                var t = AttentionTrace.Compute(Slice(q, bh, Tq, D), Slice(k, bh, Tk, D), Slice(v, bh, Tk, D), causal, mask);
                AssertMatrix(Slice(weights, bh, Tq, Tk), t.Weights, PyTorchFloat64, $"{name} weights b{b} h{h}");
                AssertMatrix(Slice(o, bh, Tq, D), t.Output, PyTorchFloat64, $"{name} output b{b} h{h}");
            }
    }

    [Fact]
    public void RejectsMismatchedShapes()
    {
        Assert.Throws<ArgumentException>(() => AttentionTrace.Compute(Q, new double[,] { { 1, 2, 3 } }, new double[,] { { 1 } }));
        Assert.Throws<ArgumentException>(() => AttentionTrace.Compute(Q, K, new double[,] { { 1 } }));
        Assert.Throws<ArgumentException>(() => AttentionTrace.Compute(Q, K, V, mask: new bool[2, 3]));
        Assert.Throws<ArgumentException>(() => AttentionTrace.Compute(new double[0, 2], K, V));
    }

    internal static double[] Row(double[,] m, int i) => Enumerable.Range(0, m.GetLength(1)).Select(j => m[i, j]).ToArray();

    private static double[] Row(double[,] m, Range rows, int column)
    {
        var (start, length) = rows.GetOffsetAndLength(m.GetLength(0));
        return Enumerable.Range(start, length).Select(i => m[i, column]).ToArray();
    }

    /// <summary>One (b, h) slice of a flat (B, H, rows, cols) tensor as a matrix.</summary>
    private static double[,] Slice(double[] flat, int bh, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) m[i, j] = flat[(bh * rows + i) * cols + j];
        return m;
    }

    internal static void AssertMatrix(double[,] expected, double[,] actual, double tolerance, string what)
    {
        Assert.Equal(expected.GetLength(0), actual.GetLength(0));
        Assert.Equal(expected.GetLength(1), actual.GetLength(1));
        for (int i = 0; i < expected.GetLength(0); i++)
            for (int j = 0; j < expected.GetLength(1); j++)
            {
                double e = expected[i, j], a = actual[i, j];
                bool ok = double.IsInfinity(e) ? e == a : Math.Abs(e - a) <= tolerance * Math.Max(1, Math.Abs(e));
                Assert.True(ok, $"{what}[{i},{j}] = {a:R}, expected {e:R} (tolerance {tolerance})");
            }
    }
}
