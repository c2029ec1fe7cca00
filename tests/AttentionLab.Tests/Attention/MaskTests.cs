using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Mask conventions (docs/attention.md): which keys each query sees for every mask kind, that equivalent masks
/// give equal results, broadcasting, and the fully-masked-row rule (weights 0, output 0, gradients 0, never NaN).
/// </summary>
public class MaskTests
{
    public static TheoryData<string> Kernels() => new(TestData.ExactKernels);

    /// <summary>The visibility pattern (weights ≠ 0) of a call on random inputs, as rows of '1'/'0'.</summary>
    private static string[] Pattern(string kernel, AttentionShape shape, AttentionOptions options, int b = 0, int h = 0)
    {
        var random = new Random(1);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var output = new float[shape.QueryElements];
        var weights = new float[shape.WeightElements];
        AttentionKernels.Get(kernel).Forward(q, k, v, shape, options, output, default);
        AttentionKernels.Get(kernel).Weights(q, k, v, shape, options, weights);
        var rows = new string[shape.QueryLength];
        for (int i = 0; i < shape.QueryLength; i++)
        {
            var chars = new char[shape.KeyLength];
            for (int j = 0; j < shape.KeyLength; j++)
                chars[j] = weights[((b * shape.Heads + h) * shape.QueryLength + i) * shape.KeyLength + j] != 0 ? '1' : '0';
            rows[i] = new string(chars);
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CausalIsTrilWhenLengthsMatch(string kernel) =>
        Assert.Equal(["1000", "1100", "1110", "1111"], Pattern(kernel, new(1, 1, 4, 4, 3), AttentionOptions.Causal));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CausalAlignsBottomRightWhenFewerQueries(string kernel) =>
        // 2 new queries after 3 cached keys (KV cache): query i is at key position i + Tk − Tq = i + 3
        Assert.Equal(["11110", "11111"], Pattern(kernel, new(1, 1, 2, 5, 3), AttentionOptions.Causal));

    /// <summary>The one causal rule, by hand (query i at key position i + Tk − Tq sees keys up to it), and the plain
    /// rule <see cref="AttentionOptions.Allows"/>, the inspection trace and Performer's prefix sums all follow it.</summary>
    [Theory]
    [InlineData(4, 4)]
    [InlineData(2, 5)]
    [InlineData(5, 3)]
    public void CausalRuleIsOneDefinition(int Tq, int Tk)
    {
        Assert.Equal(3, AttentionOptions.AlignedPosition(1, 2, 4));    // 1 + (4 − 2)
        Assert.True(AttentionOptions.CausalAllows(1, 3, 2, 4));
        Assert.False(AttentionOptions.CausalAllows(1, 4, 2, 4));
        Assert.False(AttentionOptions.CausalAllows(0, 0, 3, 1));       // 0 + (1 − 3) = −2: row 0 sees nothing
        var shape = new AttentionShape(1, 1, Tq, Tk, 2);
        var random = new Random(5);
        double[,] Matrix(int rows) { var m = new double[rows, 2]; for (int r = 0; r < rows; r++) for (int c = 0; c < 2; c++) m[r, c] = random.NextDouble(); return m; }
        var trace = AttentionLab.Inspection.AttentionTrace.Compute(Matrix(Tq), Matrix(Tk), Matrix(Tk), isCausal: true);
        var performer = Pattern("performer:8", shape, AttentionOptions.Causal);
        for (int i = 0; i < Tq; i++)
            for (int j = 0; j < Tk; j++)
            {
                bool byHand = j <= i + Tk - Tq;
                Assert.Equal(byHand, AttentionOptions.CausalAllows(i, j, Tq, Tk));
                Assert.Equal(byHand, AttentionOptions.Causal.Allows(0, 0, i, j, shape));
                Assert.Equal(byHand, trace.Visible[i, j]);
                if (!byHand) Assert.Equal('0', performer[i][j]);             // Performer's weights are 0 beyond the rule
            }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CausalWithMoreQueriesThanKeysLeavesTheFirstRowsEmpty(string kernel) =>
        // query i sees key j ≤ i − 2: rows 0 and 1 see nothing (fully masked → weights 0)
        Assert.Equal(["000", "000", "100", "110", "111"], Pattern(kernel, new(1, 1, 5, 3, 3), AttentionOptions.Causal));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void SlidingWindows(string kernel)
    {
        // one-sided: the query and the key before it (Mistral sliding_window = 2)
        Assert.Equal(["10000", "11000", "01100", "00110", "00011"],
            Pattern(kernel, new(1, 1, 5, 5, 2), new AttentionOptions { IsCausal = true, Window = new SlidingWindow(1) }));
        // two-sided (Longformer): one key on each side
        Assert.Equal(["11000", "11100", "01110", "00111", "00011"],
            Pattern(kernel, new(1, 1, 5, 5, 2), new AttentionOptions { Window = new SlidingWindow(1, 1) }));
        // asymmetric, without causal: two before, none after
        Assert.Equal(["10000", "11000", "11100", "01110", "00111"],
            Pattern(kernel, new(1, 1, 5, 5, 2), new AttentionOptions { Window = new SlidingWindow(2, 0) }));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void KeyPaddingMasksColumnsPerBatchElement(string kernel)
    {
        var options = new AttentionOptions { KeyPaddingMask = [true, true, false, true, false, false, true, true] };
        var shape = new AttentionShape(2, 2, 3, 4, 5);
        Assert.Equal(["1101", "1101", "1101"], Pattern(kernel, shape, options, b: 0, h: 1));
        Assert.Equal(["0011", "0011", "0011"], Pattern(kernel, shape, options, b: 1, h: 0));
        // combined with causal: both must allow
        Assert.Equal(["1000", "1100", "1100", "1101"], Pattern(kernel, new(2, 2, 4, 4, 5), options with { IsCausal = true }));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void BooleanAdditiveAndLargeNegativeMasksAgree(string kernel)
    {
        var shape = new AttentionShape(2, 3, 5, 6, 4);
        var random = new Random(7);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);
        var allowed = TestData.Bernoulli(random, shape.QueryLength * shape.KeyLength, 0.6);
        for (int i = 0; i < shape.QueryLength; i++) allowed[i * shape.KeyLength] = true; // no empty rows here
        var kern = AttentionKernels.Get(kernel);

        var boolean = TestData.Run(kern, q, k, v, dO, shape, new() { BooleanMask = AttentionMask.FromBoolean(allowed, 5, 6) });
        var minusInf = TestData.Run(kern, q, k, v, dO, shape, new() { AdditiveMask = AttentionMask.FromAdditive(allowed.Select(a => a ? 0f : float.NegativeInfinity).ToArray(), 5, 6) });
        var minusBig = TestData.Run(kern, q, k, v, dO, shape, new() { AdditiveMask = AttentionMask.FromAdditive(allowed.Select(a => a ? 0f : -1e9f).ToArray(), 5, 6) });
        foreach (var other in new[] { minusInf, minusBig })
        {
            Close.Assert(other.Output, boolean.Output, 1e-6, 1e-7, "output");
            Close.Assert(other.Weights, boolean.Weights, 1e-6, 1e-7, "weights");
            Close.Assert(other.Dq, boolean.Dq, 1e-6, 1e-7, "dq");
            Close.Assert(other.Dk, boolean.Dk, 1e-6, 1e-7, "dk");
            Close.Assert(other.Dv, boolean.Dv, 1e-6, 1e-7, "dv");
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void AdditiveMaskShiftsTheScores(string kernel)
    {
        // one query, keys with equal scores (k = 0): weights are softmax(bias) exactly
        var shape = new AttentionShape(1, 1, 1, 3, 2);
        float[] bias = [0, MathF.Log(2), MathF.Log(5)];
        var weights = new float[3];
        AttentionKernels.Get(kernel).Weights([1, 1], new float[6], [1, 0, 0, 1, 1, 1], shape,
            new AttentionOptions { AdditiveMask = AttentionMask.FromAdditive(bias, 1, 3) }, weights);
        Close.Assert(weights, new[] { 1 / 8.0, 2 / 8.0, 5 / 8.0 }, 1e-6, 1e-7, "softmax(bias)");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void BroadcastMasksEqualTheirExpansion(string kernel)
    {
        const int B = 2, H = 3, Tq = 4, Tk = 5, D = 3;
        var shape = new AttentionShape(B, H, Tq, Tk, D);
        var random = new Random(11);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);
        var kern = AttentionKernels.Get(kernel);
        int[][] shapes = [[Tq, Tk], [1, H, Tq, Tk], [B, 1, Tq, Tk], [1, 1, Tq, Tk], [B, H, Tq, Tk]];
        foreach (var s in shapes)
        {
            int mb = s.Length == 2 ? 1 : s[0], mh = s.Length == 2 ? 1 : s[1];
            var bias = TestData.Normal(random, mb * mh * Tq * Tk);
            var allowed = TestData.Bernoulli(random, mb * mh * Tq * Tk, 0.7);
            // expand by hand to (B, H, Tq, Tk)
            var fullBias = new float[B * H * Tq * Tk];
            var fullAllowed = new bool[B * H * Tq * Tk];
            for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
            for (int e = 0; e < Tq * Tk; e++)
            {
                int src = ((mb == 1 ? 0 : b) * mh + (mh == 1 ? 0 : h)) * Tq * Tk + e;
                fullBias[(b * H + h) * Tq * Tk + e] = bias[src];
                fullAllowed[(b * H + h) * Tq * Tk + e] = allowed[src];
            }
            var broadcast = TestData.Run(kern, q, k, v, dO, shape, new()
            { AdditiveMask = AttentionMask.FromAdditive(bias, s), BooleanMask = AttentionMask.FromBoolean(allowed, s) });
            var expanded = TestData.Run(kern, q, k, v, dO, shape, new()
            { AdditiveMask = AttentionMask.FromAdditive(fullBias, B, H, Tq, Tk), BooleanMask = AttentionMask.FromBoolean(fullAllowed, B, H, Tq, Tk) });
            Assert.Equal(expanded.Output, broadcast.Output);
            Assert.Equal(expanded.Weights, broadcast.Weights);
            Assert.Equal(expanded.Dq, broadcast.Dq);
            Assert.Equal(expanded.Dk, broadcast.Dk);
        }
    }

    public static TheoryData<string, string> FullyMaskedCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var kernel in TestData.ExactKernels)
            foreach (var c in new[] { "boolean", "additive-inf", "padding", "causal-more-queries", "window-and-padding" })
                data.Add(kernel, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(FullyMaskedCases))]
    public void FullyMaskedRowsGiveZerosNotNaN(string kernel, string kind)
    {
        const int B = 2, H = 2, Tq = 4, Tk = 4, D = 3;
        var shape = new AttentionShape(B, H, kind == "causal-more-queries" ? 6 : Tq, Tk, D);
        var allowed = Enumerable.Repeat(true, Tq * Tk).ToArray();
        Array.Fill(allowed, false, 1 * Tk, Tk); // query row 1 sees nothing
        var additive = allowed.Select(a => a ? 0.5f : float.NegativeInfinity).ToArray();
        var options = kind switch
        {
            "boolean" => new AttentionOptions { BooleanMask = AttentionMask.FromBoolean(allowed, Tq, Tk) },
            "additive-inf" => new AttentionOptions { AdditiveMask = AttentionMask.FromAdditive(additive, Tq, Tk) },
            "padding" => new AttentionOptions { KeyPaddingMask = [true, true, true, true, false, false, false, false] }, // batch 1 is all padding
            "causal-more-queries" => AttentionOptions.Causal, // 6 queries, 4 keys: rows 0, 1 see nothing
            _ => new AttentionOptions { IsCausal = true, Window = new SlidingWindow(1), KeyPaddingMask = [false, false, true, true, true, true, true, true] },
        };
        var random = new Random(5);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);
        var r = TestData.Run(AttentionKernels.Get(kernel), q, k, v, dO, shape, options);
        TestData.AllFinite(r.Output, "output");
        TestData.AllFinite(r.Weights, "weights");
        TestData.AllFinite(r.Dq, "dq");
        TestData.AllFinite(r.Dk, "dk");
        TestData.AllFinite(r.Dv, "dv");

        int emptyRows = 0;
        for (int row = 0; row < shape.Batch * shape.Heads * shape.QueryLength; row++)
        {
            var w = r.Weights.AsSpan(row * shape.KeyLength, shape.KeyLength);
            double sum = 0;
            foreach (var x in w) sum += x;
            if (sum == 0)
            {
                emptyRows++;
                Assert.All(r.Output.AsSpan(row * D, D).ToArray(), o => Assert.Equal(0f, o));
                Assert.All(r.Dq.AsSpan(row * D, D).ToArray(), g => Assert.Equal(0f, g));
            }
            else Assert.Equal(1.0, sum, 5); // every other row is still a distribution
        }
        int expectedEmpty = kind switch
        {
            "boolean" or "additive-inf" => B * H,         // row 1 of every head
            "padding" => H * Tq,                          // every row of batch 1
            "causal-more-queries" => B * H * 2,           // rows 0 and 1 of every head
            _ => H * 2,                                   // batch 0: queries 0 and 1 see only keys 0, 1 — both padding
        };
        Assert.Equal(expectedEmpty, emptyRows);
    }

    [Fact]
    public void BadMasksAreRejectedWithTheExpectedShape()
    {
        var shape = new AttentionShape(2, 3, 4, 5, 8);
        var kernel = AttentionKernels.Reference;
        void Call(AttentionOptions o) => kernel.Forward(new float[shape.QueryElements], new float[shape.KeyElements],
            new float[shape.KeyElements], shape, o, new float[shape.QueryElements], default);

        var e = Assert.Throws<ArgumentException>(() => Call(new() { KeyPaddingMask = new bool[4] }));
        Assert.Contains("(B, Tk) = (2, 5)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Call(new() { BooleanMask = AttentionMask.FromBoolean(new bool[20], 5, 4) }));
        Assert.Contains("(4, 5)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Call(new() { BooleanMask = AttentionMask.FromBoolean(new bool[2 * 2 * 20], 2, 2, 4, 5) }));
        Assert.Contains("H or 1", e.Message);
        Assert.Throws<ArgumentException>(() => Call(new() { BooleanMask = AttentionMask.FromAdditive(new float[20], 4, 5) }));
        Assert.Throws<ArgumentException>(() => Call(new() { Window = new SlidingWindow(-1) }));
        Assert.Throws<ArgumentException>(() => AttentionMask.FromAdditive([float.PositiveInfinity], 1, 1));
        Assert.Throws<ArgumentException>(() => AttentionMask.FromBoolean(new bool[3], 2, 2));
        e = Assert.Throws<ArgumentException>(() => kernel.Forward(new float[3], new float[shape.KeyElements],
            new float[shape.KeyElements], shape, AttentionOptions.Default, new float[shape.QueryElements], default));
        Assert.Contains("q has 3 elements", e.Message);
    }
}
