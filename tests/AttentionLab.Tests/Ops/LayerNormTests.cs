using AttentionLab.Ops;
using static AttentionLab.Tests.Ops.OpsTestUtil;

namespace AttentionLab.Tests.Ops;

/// <summary>LayerNorm against PyTorch (attention_ops.json "layernorm", eps 1e-5): forward 1e-5 relative, gradients
/// 1e-4 relative (float32 arithmetic against a float64 reference).</summary>
public class LayerNormTests
{
    private delegate void ForwardFn(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, int n, int c, float eps, Span<float> y, Span<float> mean, Span<float> rstd);
    private delegate void BackwardFn(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, int n, int c, Span<float> dx, Span<float> dw, Span<float> db);

    private static (ForwardFn, BackwardFn) Impl(string name) => name == "reference"
        ? (LayerNorm.ForwardReference, LayerNorm.BackwardReference)
        : (LayerNorm.Forward, LayerNorm.Backward);

    [Theory]
    [InlineData("reference")]
    [InlineData("fast")]
    public void MatchesPyTorch(string impl)
    {
        var (forward, backward) = Impl(impl);
        var root = Fixtures.Get(Fixtures.Load("attention_ops.json"), "layernorm");
        var x = Fixtures.Floats(Fixtures.Get(root, "x"));
        var w = Fixtures.Floats(Fixtures.Get(root, "w"));
        var b = Fixtures.Floats(Fixtures.Get(root, "b"));
        var dy = Fixtures.Floats(Fixtures.Get(root, "dy"));
        int c = w.Length, n = x.Length / c;
        var y = new float[x.Length]; var mean = new float[n]; var rstd = new float[n];
        forward(x, w, b, n, c, 1e-5f, y, mean, rstd);
        Close.Assert(y, Fixtures.Doubles(Fixtures.Get(root, "y")), 1e-5, 1e-6, "y");
        var dx = new float[x.Length]; var dw = new float[c]; var db = new float[c];
        backward(dy, x, w, mean, rstd, n, c, dx, dw, db);
        Close.Assert(dx, Fixtures.Doubles(Fixtures.Get(root, "dx")), 1e-4, 1e-5, "dx");
        Close.Assert(dw, Fixtures.Doubles(Fixtures.Get(root, "dw")), 1e-4, 1e-5, "dw");
        Close.Assert(db, Fixtures.Doubles(Fixtures.Get(root, "db")), 1e-4, 1e-5, "db");
    }

    [Fact]
    public void BackwardAccumulates()
    {
        int n = 3, c = 20;
        var x = Random(n * c, 1); var w = Random(c, 2); var b = Random(c, 3); var dy = Random(n * c, 4);
        var y = new float[n * c]; var mean = new float[n]; var rstd = new float[n];
        LayerNorm.Forward(x, w, b, n, c, 1e-5f, y, mean, rstd);
        var dx = new float[n * c]; var dw = new float[c]; var db = new float[c];
        LayerNorm.Backward(dy, x, w, mean, rstd, n, c, dx, dw, db);
        var dx2 = (float[])dx.Clone(); var dw2 = (float[])dw.Clone(); var db2 = (float[])db.Clone();
        LayerNorm.Backward(dy, x, w, mean, rstd, n, c, dx2, dw2, db2);
        Close.Assert(dx2, dx.Select(v => 2.0 * v).ToArray(), 1e-6, 1e-7, "dx twice");
        Close.Assert(dw2, dw.Select(v => 2.0 * v).ToArray(), 1e-6, 1e-7, "dw twice");
        Close.Assert(db2, db.Select(v => 2.0 * v).ToArray(), 1e-6, 1e-7, "db twice");
    }

    [Fact]
    public void BackwardMatchesFiniteDifferences()
    {
        int n = 2, c = 9;
        var x = Random(n * c, 5, 2); var w = Random(c, 6); var b = Random(c, 7); var dy = Random(n * c, 8);
        double Loss()
        {
            var y = new float[n * c]; var m = new float[n]; var r = new float[n];
            LayerNorm.ForwardReference(x, w, b, n, c, 1e-5f, y, m, r);
            double s = 0; for (int i = 0; i < y.Length; i++) s += y[i] * (double)dy[i];
            return s;
        }
        var yy = new float[n * c]; var mean = new float[n]; var rstd = new float[n];
        LayerNorm.Forward(x, w, b, n, c, 1e-5f, yy, mean, rstd);
        var dx = new float[n * c]; var dw = new float[c]; var db = new float[c];
        LayerNorm.Backward(dy, x, w, mean, rstd, n, c, dx, dw, db);
        for (int i = 0; i < x.Length; i++) Assert.Equal(Numeric(x, i, Loss, 1e-3f), dx[i], 2e-3);
        for (int i = 0; i < c; i++) Assert.Equal(Numeric(w, i, Loss, 1e-3f), dw[i], 2e-3);
        for (int i = 0; i < c; i++) Assert.Equal(Numeric(b, i, Loss, 1e-3f), db[i], 2e-3);
    }

    [Theory]
    [Trait("Category", "Simd")]
    [MemberData(nameof(OpsTestUtil.SimdLengths), MemberType = typeof(OpsTestUtil))]
    public void FastMatchesReferenceAtEveryWidth(int c)
    {
        if (c == 0) return; // a row needs a channel
        int n = 3;
        var x = Random(n * c, c, 3); var w = Random(c, c + 1); var b = Random(c, c + 2); var dy = Random(n * c, c + 3);
        var y1 = new float[n * c]; var m1 = new float[n]; var r1 = new float[n];
        var y2 = new float[n * c]; var m2 = new float[n]; var r2 = new float[n];
        LayerNorm.ForwardReference(x, w, b, n, c, 1e-5f, y1, m1, r1);
        LayerNorm.Forward(x, w, b, n, c, 1e-5f, y2, m2, r2);
        Close.Assert(y2, y1, 1e-5, 1e-5, "y");
        Close.Assert(r2, r1, 1e-5, 1e-6, "rstd");
        var dx1 = new float[n * c]; var dw1 = new float[c]; var db1 = new float[c];
        var dx2 = new float[n * c]; var dw2 = new float[c]; var db2 = new float[c];
        LayerNorm.BackwardReference(dy, x, w, m1, r1, n, c, dx1, dw1, db1);
        LayerNorm.Backward(dy, x, w, m1, r1, n, c, dx2, dw2, db2);
        Close.Assert(dx2, dx1, 1e-4, 1e-5, "dx");
        Close.Assert(dw2, dw1, 1e-5, 1e-6, "dw");
        Close.Assert(db2, db1, 1e-5, 1e-6, "db");
    }
}
