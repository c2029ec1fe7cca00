using AttentionLab.Ops;
using static AttentionLab.Tests.Ops.OpsTestUtil;

namespace AttentionLab.Tests.Ops;

/// <summary>GELU (tanh form) against PyTorch (attention_ops.json "gelu_tanh"): 1e-5 relative + 1e-6 absolute
/// (the fast path computes σ(2u) with one exponential; values near −5 are ~1e-7 so absolute error matters).</summary>
public class GeluTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesPyTorch(bool fast)
    {
        var root = Fixtures.Get(Fixtures.Load("attention_ops.json"), "gelu_tanh");
        var x = Fixtures.Floats(Fixtures.Get(root, "x"));
        var y = new float[x.Length];
        if (fast) Gelu.Forward(x, y); else Gelu.ForwardReference(x, y);
        Close.Assert(y, Fixtures.Doubles(Fixtures.Get(root, "y")), 1e-5, 1e-6, "y");
        var ones = Enumerable.Repeat(1f, x.Length).ToArray();
        var dx = new float[x.Length];
        if (fast) Gelu.Backward(x, ones, dx); else Gelu.BackwardReference(x, ones, dx);
        Close.Assert(dx, Fixtures.Doubles(Fixtures.Get(root, "dx_for_ones")), 1e-4, 1e-6, "dx");
    }

    [Fact]
    public void BackwardMatchesFiniteDifferences()
    {
        var x = Random(40, 11, 4);
        var dx = new float[x.Length];
        Gelu.Backward(x, Enumerable.Repeat(1f, x.Length).ToArray(), dx);
        for (int i = 0; i < x.Length; i++)
        {
            double h = 1e-4, xi = x[i];
            double G(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            Assert.Equal((G(xi + h) - G(xi - h)) / (2 * h), dx[i], 1e-5);
        }
    }

    [Fact]
    public void InPlaceWorks()
    {
        var x = Random(100, 12, 3);
        var expected = new float[x.Length];
        Gelu.ForwardReference(x, expected);
        Gelu.Forward(x, x);
        Close.Assert(x, expected, 1e-5, 1e-6, "in place");
    }

    [Theory]
    [Trait("Category", "Simd")]
    [MemberData(nameof(OpsTestUtil.SimdLengths), MemberType = typeof(OpsTestUtil))]
    public void FastMatchesReferenceAtEveryLength(int n)
    {
        var x = Random(n, n, 6); var dy = Random(n, n + 1);
        var y1 = new float[n]; var y2 = new float[n];
        Gelu.ForwardReference(x, y1); Gelu.Forward(x, y2);
        Close.Assert(y2, y1, 1e-5, 1e-6, "y");
        var d1 = new float[n]; var d2 = new float[n];
        Gelu.BackwardReference(x, dy, d1); Gelu.Backward(x, dy, d2);
        Close.Assert(d2, d1, 1e-4, 1e-6, "dx");
    }
}
