using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// Masks that widen by union (docs/attention.md §3): global tokens OR the sliding window (Longformer), prefix OR causal
/// (prefix-LM). The patterns are written out by hand from the rule
/// (causal OR j &lt; P) AND (window OR j &lt; G OR p &lt; G) AND padding AND boolean, and every exact kernel must give
/// them; each union mask must also equal the same visibility given as an explicit boolean mask.
/// </summary>
public class UnionMaskTests
{
    public static TheoryData<string> Kernels() => new(TestData.ExactKernels);

    private static string[] Pattern(string kernel, AttentionShape shape, AttentionOptions options)
    {
        var random = new Random(1);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var weights = new float[shape.WeightElements];
        AttentionKernels.Get(kernel).Weights(q, k, v, shape, options, weights);
        return Enumerable.Range(0, shape.QueryLength)
            .Select(i => new string(Enumerable.Range(0, shape.KeyLength).Select(j => weights[i * shape.KeyLength + j] != 0 ? '1' : '0').ToArray()))
            .ToArray();
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void GlobalTokensWidenTheWindow(string kernel)
    {
        // window: the query and 1 key before it; keys 0, 1 are global; queries 0, 1 are global (see everything)
        var options = new AttentionOptions { Window = new SlidingWindow(1), GlobalTokens = 2 };
        Assert.Equal(["111111", "111111", "111000", "111100", "110110", "110011"], Pattern(kernel, new(1, 1, 6, 6, 3), options));
        // causal still applies to the global queries (they see every key before them)
        Assert.Equal(["100000", "110000", "111000", "111100", "110110", "110011"],
            Pattern(kernel, new(1, 1, 6, 6, 3), options with { IsCausal = true }));
        // Tq < Tk (decode): the 2 queries sit at positions 4 and 5
        Assert.Equal(["110110", "110011"], Pattern(kernel, new(1, 1, 2, 6, 3), options with { IsCausal = true }));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void PrefixWidensCausal(string kernel)
    {
        var options = new AttentionOptions { IsCausal = true, PrefixLength = 3 };
        Assert.Equal(["11100", "11100", "11100", "11110", "11111"], Pattern(kernel, new(1, 1, 5, 5, 3), options));
        // without causal the prefix changes nothing; with a window the window still cuts the prefix
        Assert.Equal(["11111", "11111"], Pattern(kernel, new(1, 1, 2, 5, 3), new AttentionOptions { PrefixLength = 3 }));
        Assert.Equal(["11000", "11100", "01100", "00110", "00011"],
            Pattern(kernel, new(1, 1, 5, 5, 3), options with { Window = new SlidingWindow(1, 1) }));
    }

    /// <summary>The union options against the boolean mask built from <see cref="AttentionOptions.Allows"/>, for every
    /// exact kernel, forward and backward (tolerance 1e-5 relative + 1e-6 absolute: the same arithmetic on the same keys).</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void UnionMasksEqualTheirBooleanMask(string kernel)
    {
        var shape = new AttentionShape(2, 2, 7, 9, 4);
        var random = new Random(17);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);
        AttentionOptions[] cases =
        [
            new() { Window = new SlidingWindow(2, 1), GlobalTokens = 2 },
            new() { IsCausal = true, Window = new SlidingWindow(2), GlobalTokens = 3 },
            new() { IsCausal = true, PrefixLength = 4 },
            new() { IsCausal = true, PrefixLength = 5, Window = new SlidingWindow(3), GlobalTokens = 1,
                KeyPaddingMask = TestData.Bernoulli(random, 2 * 9, 0.8) },
        ];
        var kern = AttentionKernels.Get(kernel);
        foreach (var options in cases)
        {
            var allowed = new bool[shape.Batch * shape.Heads * shape.QueryLength * shape.KeyLength];
            for (int b = 0; b < shape.Batch; b++)
            for (int h = 0; h < shape.Heads; h++)
            for (int i = 0; i < shape.QueryLength; i++)
            for (int j = 0; j < shape.KeyLength; j++)
                allowed[((b * shape.Heads + h) * shape.QueryLength + i) * shape.KeyLength + j] = options.Allows(b, h, i, j, shape);
            var explicitMask = new AttentionOptions { BooleanMask = AttentionMask.FromBoolean(allowed, 2, 2, 7, 9) };
            var union = TestData.Run(kern, q, k, v, dO, shape, options);
            var boolean = TestData.Run(kern, q, k, v, dO, shape, explicitMask);
            Close.Assert(union.Output, boolean.Output, 1e-5, 1e-6, "output");
            Close.Assert(union.Weights, boolean.Weights, 1e-5, 1e-6, "weights");
            Close.Assert(union.Dq, boolean.Dq, 1e-5, 1e-6, "dq");
            Close.Assert(union.Dk, boolean.Dk, 1e-5, 1e-6, "dk");
            Close.Assert(union.Dv, boolean.Dv, 1e-5, 1e-6, "dv");
        }
    }

    [Fact]
    public void NegativeCountsAreRejected()
    {
        var shape = new AttentionShape(1, 1, 2, 2, 2);
        Assert.Contains("global tokens", Assert.Throws<ArgumentException>(() => new AttentionOptions { GlobalTokens = -1 }.Validate(shape)).Message);
        Assert.Contains("prefix", Assert.Throws<ArgumentException>(() => new AttentionOptions { PrefixLength = -2 }.Validate(shape)).Message);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void UnionBackwardMatchesFiniteDifferences(string kernelName)
    {
        var kernel = AttentionKernels.Get(kernelName);
        var shape = new AttentionShape(1, 2, 5, 6, 3);
        var random = new Random(23);
        var options = new AttentionOptions { IsCausal = true, PrefixLength = 2, Window = new SlidingWindow(1), GlobalTokens = 1 };
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var g = TestData.Normal(random, shape.QueryElements);
        var r = TestData.Run(kernel, q, k, v, g, shape, options);
        var output = new float[shape.QueryElements];
        double Loss() { kernel.Forward(q, k, v, shape, options, output, default); return TestData.Dot(output, g); }
        TestData.GradCheck(q, r.Dq, Loss, "dq");
        TestData.GradCheck(k, r.Dk, Loss, "dk");
        TestData.GradCheck(v, r.Dv, Loss, "dv");
    }
}
