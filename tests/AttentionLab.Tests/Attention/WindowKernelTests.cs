using AttentionLab.Attention;

namespace AttentionLab.Tests.Attention;

/// <summary>
/// <c>window:W[,global:G][,two-sided:1]</c> (Longformer) equals naive with the equivalent mask (Window + GlobalTokens)
/// forward and backward, alone and with the caller's causal / prefix / padding masks; a window at least as wide as
/// the context equals full attention. Tolerances as for the fast kernel: 1e-5 relative + 1e-6 absolute forward,
/// 1e-4 + 1e-5 gradients.
/// </summary>
[Trait("Category", "Simd")]
public class WindowKernelTests
{
    public static TheoryData<string, int, int, string> Cases()
    {
        var data = new TheoryData<string, int, int, string>();
        foreach (var spec in new[] { "window:1", "window:3", "window:4,global:2", "window:5,two-sided:1", "window:6,global:3,two-sided:1", "window:40,global:1" })
            foreach (var (tq, tk) in new[] { (9, 9), (70, 70), (3, 11), (130, 130) })
                foreach (var mask in new[] { "none", "causal", "causal+padding+prefix" })
                    data.Add(spec, tq, tk, mask);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsNaiveWithTheEquivalentMask(string spec, int Tq, int Tk, string mask)
    {
        var kernel = (WindowAttention)AttentionKernels.Parse(spec);
        var shape = new AttentionShape(2, 2, Tq, Tk, 5);
        var random = TestData.Seeded(spec, Tq, Tk, mask);
        var options = mask switch
        {
            "none" => AttentionOptions.Default,
            "causal" => AttentionOptions.Causal,
            _ => new AttentionOptions { IsCausal = true, PrefixLength = 2, KeyPaddingMask = TestData.Bernoulli(random, 2 * Tk, 0.8) },
        };
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);
        var expected = TestData.Run(AttentionKernels.Reference, q, k, v, dO, shape, kernel.EquivalentOptions(options));
        FastKernelTests.Compare(kernel, q, k, v, dO, shape, options, expected);
    }

    [Fact]
    public void AWindowAsWideAsTheContextIsExact()
    {
        var shape = new AttentionShape(1, 3, 20, 20, 4);
        var random = new Random(2);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var dO = TestData.Normal(random, shape.QueryElements);
        var causal = TestData.Run(AttentionKernels.Reference, q, k, v, dO, shape, AttentionOptions.Causal);
        FastKernelTests.Compare(AttentionKernels.Parse("window:20"), q, k, v, dO, shape, AttentionOptions.Causal, causal);
        var full = TestData.Run(AttentionKernels.Reference, q, k, v, dO, shape, AttentionOptions.Default);
        FastKernelTests.Compare(AttentionKernels.Parse("window:40,two-sided:1"), q, k, v, dO, shape, AttentionOptions.Default, full);
        // one key narrower is not exact any more
        var narrow = TestData.Run(AttentionKernels.Parse("window:19"), q, k, v, dO, shape, AttentionOptions.Causal);
        Assert.NotEqual(causal.Output[^1], narrow.Output[^1]);
    }

    [Fact]
    public void WindowDefinitions()
    {
        Assert.Equal(new SlidingWindow(2, 0), ((WindowAttention)AttentionKernels.Parse("window:3")).Sliding);      // query + 2 before
        Assert.Equal(new SlidingWindow(2, 2), ((WindowAttention)AttentionKernels.Parse("window:4,two-sided:1")).Sliding); // W/2 each side
        foreach (var name in new[] { "window:256", "window:256,global:2", "window:8,two-sided:1", "window:8,global:1,two-sided:1" })
            Assert.Equal(name, AttentionKernels.Parse(name).Name);
        Assert.False(AttentionKernels.Parse("window:8").IsExact);
        Assert.Equal("window:8,global:2", AttentionKernels.Parse(" window:8 , global:2 , two-sided:0 ").Name);
    }

    [Theory]
    [InlineData("window", "needs the window size")]
    [InlineData("window:0", "from 1")]
    [InlineData("window:abc", "integer")]
    [InlineData("window:8,global:-1", "global")]
    [InlineData("window:8,two-sided:2", "two-sided")]
    [InlineData("window:8,width:3", "no option 'width'")]
    public void BadSpecsSayWhat(string spec, string expected) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => AttentionKernels.Parse(spec)).Message);

    [Fact]
    public void RefusesASecondWindow()
    {
        var shape = new AttentionShape(1, 1, 4, 4, 2);
        var e = Assert.Throws<ArgumentException>(() => AttentionKernels.Parse("window:2").Forward(new float[8], new float[8], new float[8], shape,
            new AttentionOptions { Window = new SlidingWindow(1) }, new float[8], default));
        Assert.Contains("sets its own sliding window", e.Message);
    }

    [Fact]
    public void BackwardMatchesFiniteDifferences()
    {
        var kernel = AttentionKernels.Parse("window:2,global:1,two-sided:1");
        var shape = new AttentionShape(1, 2, 6, 6, 3);
        var random = new Random(29);
        var q = TestData.Normal(random, shape.QueryElements);
        var k = TestData.Normal(random, shape.KeyElements);
        var v = TestData.Normal(random, shape.KeyElements);
        var g = TestData.Normal(random, shape.QueryElements);
        var options = AttentionOptions.Causal;
        var r = TestData.Run(kernel, q, k, v, g, shape, options);
        var output = new float[shape.QueryElements];
        double Loss() { kernel.Forward(q, k, v, shape, options, output, default); return TestData.Dot(output, g); }
        TestData.GradCheck(q, r.Dq, Loss, "dq");
        TestData.GradCheck(k, r.Dk, Loss, "dk");
        TestData.GradCheck(v, r.Dv, Loss, "dv");
    }
}
